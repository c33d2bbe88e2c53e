"""Screen texts: Vietnamese first, English on request (``?lang=en``, remembered in a cookie)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("ExamGate", "ExamGate"),
    "login.title": ("Đăng nhập", "Sign in"),
    "login.username": ("Tên đăng nhập", "Username"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Sign in"),
    "login.failed": ("Sai tên đăng nhập hoặc mật khẩu", "Wrong username or password"),
    "login.locked": (
        "Tạm khóa do đăng nhập sai nhiều lần. Thử lại sau (giây):",
        "Locked after failed logins. Retry in (s):",
    ),
    "logout": ("Đăng xuất", "Sign out"),
    "lang.switch": ("English", "Tiếng Việt"),
    "nav.console": ("Duyệt hồ sơ", "Review console"),
    "nav.assisted": ("Xác minh có hỗ trợ", "Officer-assisted admission"),
    "nav.reports": ("Báo cáo", "Reports"),
    "nav.kiosk": ("Màn hình thí sinh", "Kiosk screen"),
    "console.title": ("Hàng đợi duyệt của giám thị", "Proctor review queue"),
    "console.empty": ("Không có yêu cầu duyệt nào.", "No review requests."),
    "console.viewer": ("Bạn chỉ có quyền xem.", "You have view-only access."),
    "console.no_csca": (
        "Không có CSCA của Việt Nam (no CSCA for VNM): mọi thí sinh đều được chuyển cho giám thị duyệt. "
        "Kỹ thuật viên: chạy `examgate selftest`.",
        "no CSCA for VNM: every candidate goes to review. Technician: run `examgate selftest`.",
    ),
    "console.live": ("Ảnh trực tiếp", "Live frame"),
    "console.pad_score": (
        "Điểm người thật (chống giả mạo; cao = người thật)",
        "Liveness score (presentation-attack check; higher = live)",
    ),
    "console.pad_title": ("Kiểm tra người thật (chống giả mạo)", "Liveness check (presentation-attack detection)"),
    "console.pad_thresholds": ("Ngưỡng (người thật / tấn công)", "Thresholds (live / attack)"),
    "console.pad_signals": ("Tín hiệu", "Signals"),
    "console.pad_no_signals": ("Không có tín hiệu nhiều khung hình.", "No multi-frame signals."),
    "console.pad_frame": (
        "Khung hình đã chấm điểm là ảnh trực tiếp ở trên.",
        "The frame that was scored is the live frame above.",
    ),
    "pad.PAD_SUSPECTED": (
        "Nghi ngờ giả mạo: khuôn mặt trước camera có thể là ảnh in hoặc màn hình (điểm người thật dưới ngưỡng). "
        "Hãy tự nhìn thí sinh: yêu cầu quay đầu, chớp mắt, xem có cầm ảnh hay điện thoại không, rồi mới quyết định.",
        "Presentation attack suspected: the face at the camera may be a print or a screen (liveness score below the "
        "threshold). Look at the candidate yourself: ask them to turn their head and blink, check for a photo or a "
        "phone, then decide.",
    ),
    "pad.PAD_UNAVAILABLE": (
        "Không chạy được kiểm tra người thật (thiếu hoặc lỗi mô hình chống giả mạo), nên cổng không tự cho vào. "
        "Hãy tự kiểm tra thí sinh là người thật; báo kỹ thuật viên chạy `examgate selftest`.",
        "The liveness check could not run (presentation-attack models missing or failing), so the gate admits no one "
        "by itself. Check yourself that the candidate is live; ask the technician to run `examgate selftest`.",
    ),
    "pad.PAD_CHALLENGE_FAILED": (
        "Thí sinh không làm đúng yêu cầu (quay đầu hoặc chớp mắt) trong thời gian cho phép. "
        "Hãy yêu cầu làm lại trước mặt bạn.",
        "The candidate did not do the asked action (turn the head or blink) in time. Ask them to do it again in "
        "front of you.",
    ),
    "pad.PAD_NOT_SCORED": (
        "Không chấm được điểm người thật cho khuôn mặt này (mặt bị khung hình cắt hoặc quá nhỏ), nên cổng không tự "
        "cho vào. Hãy tự nhìn thí sinh: có cầm ảnh hay điện thoại không, rồi mới quyết định.",
        "The liveness check could not score this face (cut by the frame edge or too small), so the gate admits no one "
        "by itself. Look at the candidate yourself: check for a photo or a phone, then decide.",
    ),
    "pad.signal.blink": ("Chớp mắt (cao = người thật)", "Blink (higher = live)"),
    "pad.signal.nonrigid_motion": ("Cử động khuôn mặt (cao = người thật)", "Non-rigid motion (higher = live)"),
    "pad.signal.planar_residual": ("Lệch khỏi một mặt phẳng (cao = người thật)", "Off-plane motion (higher = live)"),
    "pad.signal.challenge_passed": ("Làm đúng yêu cầu (1 = có, 0 = không)", "Challenge done (1 = yes, 0 = no)"),
    "console.chip": ("Ảnh trong chip (DG2)", "Chip photo (DG2)"),
    "console.roster": ("Ảnh trong danh sách thi", "Roster photo"),
    "console.noimage": ("Không có ảnh", "No image"),
    "console.score": ("Điểm khớp khuôn mặt", "Face match score"),
    "console.thresholds": ("Ngưỡng (qua / xem xét)", "Thresholds (pass / review)"),
    "console.reasons": ("Lý do", "Reason codes"),
    "console.name": ("Họ tên", "Name"),
    "console.candidate_id": ("Số báo danh", "Candidate id"),
    "console.id_masked": ("Số CCCD (che)", "ID number (masked)"),
    "console.birth_date": ("Ngày sinh", "Birth date"),
    "console.attempts": ("Số lần chụp", "Capture attempts"),
    "console.reason": ("Lý do quyết định (bắt buộc)", "Reason for the decision (required)"),
    "console.approve": ("Cho vào", "Approve"),
    "console.deny": ("Từ chối", "Deny"),
    "console.reason_required": ("Cần nhập lý do.", "A reason is required."),
    "console.conflict": ("Yêu cầu này đã được xử lý.", "This request was already resolved."),
    "console.decisions": ("Quyết định gần đây", "Recent decisions"),
    "console.gate_opened": ("Cổng đã mở", "Gate opened"),
    "console.stale": (
        "Yêu cầu cũ không còn chờ (cổng đã khởi động lại):",
        "Old request no longer waiting (the gate restarted):",
    ),
    "outcome.pass": ("Cho vào", "Admitted"),
    "outcome.fail": ("Từ chối", "Rejected"),
    "outcome.review": ("Chờ duyệt", "Review"),
    "assisted.title": ("Xác minh có hỗ trợ của cán bộ", "Officer-assisted admission"),
    "assisted.credential": ("Loại giấy tờ", "Credential"),
    "assisted.vneid_level2": ("VNeID mức 2 (cán bộ quét mã QR)", "VNeID level 2 (officer scanned the QR)"),
    "assisted.manual_no_card": ("Chưa có thẻ CCCD", "No CCCD card yet"),
    "assisted.manual_lost_card": ("Mất thẻ CCCD", "Lost CCCD card"),
    "assisted.manual_old_cmnd": ("CMND cũ (không chip)", "Old CMND (no chip)"),
    "assisted.personal_id": ("Số định danh cá nhân (12 số)", "Personal ID number (12 digits)"),
    "assisted.vneid_checked": (
        "Cán bộ đã xác minh ứng dụng VNeID mức 2 bằng tài khoản của mình",
        "The officer verified the VNeID level-2 app with the officer's own account",
    ),
    "assisted.commitment": ("Thí sinh đã ký bản cam kết", "The candidate signed the commitment"),
    "assisted.note": ("Ghi chú", "Note"),
    "assisted.submit": ("Gửi và chụp khuôn mặt", "Submit and capture the face"),
    "assisted.invalid_id": ("Số định danh phải có đúng 12 chữ số.", "The ID number must be exactly 12 digits."),
    "assisted.need_vneid": ("Cần xác nhận đã kiểm tra VNeID.", "Confirm the VNeID check."),
    "assisted.need_commitment": ("Cần bản cam kết đã ký.", "A signed commitment is required."),
    "assisted.running": ("Đang xử lý… thí sinh nhìn vào camera.", "Working… the candidate looks at the camera."),
    "assisted.outcome": ("Kết quả", "Outcome"),
    "reports.title": ("Báo cáo ca thi", "Exam session reports"),
    "reports.session": ("Ca thi", "Session"),
    "reports.roster": ("Số thí sinh trong danh sách", "Candidates on the roster"),
    "reports.admitted": ("Cho vào", "Admitted"),
    "reports.rejected": ("Từ chối", "Rejected"),
    "reports.reviewed": ("Qua duyệt của giám thị", "Reviewed by a proctor"),
    "reports.review_approved": ("Duyệt: cho vào", "Review: approved"),
    "reports.review_denied": ("Duyệt: từ chối", "Review: denied"),
    "reports.pending": ("Đang chờ duyệt", "Pending review"),
    "reports.assisted": ("Xác minh có hỗ trợ", "Officer-assisted"),
    "reports.by_credential": ("Theo loại giấy tờ", "By credential"),
    "reports.by_reason": ("Theo mã lý do", "By reason code"),
    "reports.csv": ("Tải CSV", "Download CSV"),
    "reports.total": ("Tổng", "Total"),
    "credential.chip": ("Thẻ CCCD gắn chip", "CCCD chip card"),
    "kiosk.idle": ("Chạm thẻ CCCD vào đầu đọc", "Tap your CCCD card on the reader"),
    "kiosk.camera": ("Nhìn vào camera", "Look at the camera"),
    "kiosk.challenge": ("Làm theo hướng dẫn trên màn hình", "Do what the screen asks"),
    "kiosk.countdown": ("Còn {s} giây", "{s} s left"),
    "kiosk.wait": ("Vui lòng chờ", "Please wait"),
    "kiosk.pass": ("Mời qua cổng", "Please go through"),
    "kiosk.see_proctor": ("Vui lòng gặp giám thị", "Please see the proctor"),
    "error.forbidden": ("Bạn không có quyền làm việc này.", "You are not allowed to do this."),
}


def pick_lang(query: str | None, cookie: str | None) -> Lang:
    for value in (query, cookie):
        if value == "en":
            return "en"
        if value == "vi":
            return "vi"
    return "vi"


def texts(lang: Lang) -> dict[str, str]:
    index = LANGS.index(lang)
    return {key: pair[index] for key, pair in TEXTS.items()}
