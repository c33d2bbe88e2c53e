"""The CSCA trust store the chip reader checks cards against: is there a CSCA for Vietnam, are the CRLs current?"""

from __future__ import annotations

from edge.device_config import Pn532ReaderConfig
from edge.identity.trust_store import NO_VNM, TrustStore, certificate_country, valid_vnm
from edge.selftest.model import CheckResult, SelftestContext, failed, passed, skipped, warned

NO_VNM_REMEDY = (
    "obtain the Vietnamese CSCA (the one that signs CCCD document signers) from the Ministry of Public Security (C06) "
    "or a master list that carries it, then `examgate trust import FILE --store DIR --signer-ca PEM`; "
    "see provisioning/csca/README.md"
)


def check_trust(ctx: SelftestContext) -> CheckResult:
    cfg = ctx.cfg.reader
    if not isinstance(cfg, Pn532ReaderConfig):
        return skipped("csca", "simulated reader: card fixtures are not checked against a trust store")
    if cfg.csca_dir is None:
        return warned("csca", f"reader.csca_dir is not set: {NO_VNM}", NO_VNM_REMEDY)
    store = TrustStore.load(cfg.csca_dir)  # a missing folder raises E_TRUST_STORE_INVALID, reported as a failure
    now = ctx.now()
    loose = sum("not listed in manifest.json" in why for _, why in store.problems)
    broken = len(store.problems) - loose
    notes = [f"{len(store)} CSCA(s), {len(store.crls)} CRL(s) in {cfg.csca_dir}"]
    if loose:
        notes.append(f"{loose} loose file(s) ignored (not in manifest.json)")
    if broken:
        return failed(
            "csca",
            "; ".join([*notes, f"{broken} listed file(s) unreadable or edited: {store.problems[0][1]}"]),
            "re-import the store's sources with `examgate trust import`; check who can write the folder",
        )
    vn = [c for c in store.certificates if certificate_country(c) == "VN"]
    vn_now = valid_vnm(store, now)
    if not vn:
        return warned("csca", "; ".join([*notes, NO_VNM]), NO_VNM_REMEDY)
    if not vn_now:
        return warned("csca", "; ".join([*notes, f"every VNM CSCA is outside its validity: {NO_VNM}"]), NO_VNM_REMEDY)
    stale = [crl for crl in store.crls if crl.next_update_utc is not None and crl.next_update_utc < now]
    if stale:
        crl = stale[0]
        assert crl.next_update_utc is not None
        return warned(
            "csca",
            "; ".join(
                [
                    *notes,
                    f"CRL from {crl.issuer.rfc4514_string()} is past its next update "
                    f"({crl.next_update_utc:%Y-%m-%d %H:%M}Z): revocations since then are unknown",
                ]
            ),
            "fetch the issuer's current CRL and run `examgate trust import-crl FILE --store DIR`",
        )
    return passed("csca", "; ".join([*notes, f"{len(vn_now)} VNM CSCA(s) valid now"]))
