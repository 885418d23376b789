"""Frame sources behind one interface (device, video file, image folder, DICOM, recording, simulator)."""
