"""usguide: real-time needle guidance for ultrasound-guided procedures."""

__version__ = "0.1.0"
