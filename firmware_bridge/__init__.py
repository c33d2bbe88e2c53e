"""Hardware edge of ExamGate: drivers for the reader, camera and turnstile, and a simulator for each."""
