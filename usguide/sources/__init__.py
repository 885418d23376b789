"""Frame sources behind one interface (device, video, image folder, DICOM, recording, simulator)."""
