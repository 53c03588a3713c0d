"""OCR internals: detection, recognition, grouping into blocks (used by stages/ocr.py)."""
