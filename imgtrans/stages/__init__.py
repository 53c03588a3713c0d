"""Pipeline stages, one module each, in run order: preprocess, ocr, mask, translate, inpaint, render."""
