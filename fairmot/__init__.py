"""FairMOT multi-object tracking."""
