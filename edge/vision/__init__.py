"""Face pipeline on the device: decode → detect (MediaPipe BlazeFace) → align (dlib chip) → quality gates →
embed (dlib ResNet, TFLite) → match (cosine). The lane uses ``edge.vision.verifier.TfliteFaceVerifier``.
"""
