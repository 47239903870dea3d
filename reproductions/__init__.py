"""One package per paper; each registers itself through the ``affrepro`` entry-point group."""
