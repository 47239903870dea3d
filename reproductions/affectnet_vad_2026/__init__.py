"""affectnet-vad-2026: Revisiting Emotions Representation for Recognition in the Wild.

Card only for now: no number has been retrieved. relabel.py holds the NumPy reference of the
VAD -> class-probability relabelling and loaders.py the reader of the released probability
files; the Numba/Triton kernel is not built yet."""
