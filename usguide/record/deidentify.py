"""De-identification of exports: which DICOM identifiers are never copied, burned-in text masking.

An export carries pixels, timing, calibration and needle results only; nothing of a DICOM header
is copied. These helpers name what an input held (so the export can say what was left out) and
black out everything outside the image region, where scanners burn in names, dates and IDs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from usguide.types import Roi, SourceInfo

NEUTRAL_DICOM_NAME = "dicom"  # what a session says its DICOM source was called

# Attributes that identify a patient, a study or an institution (DICOM PS3.15 Annex E, basic
# profile, the ones ultrasound files carry in practice). An export copies none of them.
DICOM_IDENTIFIERS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientBirthTime", "PatientSex",
    "PatientAge", "PatientSize", "PatientWeight", "PatientAddress", "OtherPatientIDs",
    "OtherPatientNames", "PatientComments", "EthnicGroup", "StudyInstanceUID",
    "SeriesInstanceUID", "SOPInstanceUID", "StudyID", "AccessionNumber", "StudyDate",
    "SeriesDate", "AcquisitionDate", "ContentDate", "StudyTime", "SeriesTime", "AcquisitionTime",
    "ContentTime", "StudyDescription", "SeriesDescription", "InstitutionName",
    "InstitutionAddress", "InstitutionalDepartmentName", "ReferringPhysicianName",
    "PerformingPhysicianName", "OperatorsName", "PhysiciansOfRecord", "StationName",
    "DeviceSerialNumber", "FrameOfReferenceUID", "RequestingPhysician", "MedicalRecordLocator",
)  # fmt: skip


def dicom_identifiers_present(path: str | Path) -> list[str]:
    """The identifying attributes (names only, never values) that a DICOM file holds.

    Returns an empty list when the file cannot be read as DICOM.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError):
        return []
    return [name for name in DICOM_IDENTIFIERS if str(ds.get(name, "") or "").strip()]


def neutral_source(info: SourceInfo) -> SourceInfo:
    """``info`` as a session stores it: a DICOM's file name (often a patient's name or an
    accession number) replaced by a neutral one; other sources unchanged."""
    if info.kind != "dicom":
        return info
    return dataclasses.replace(info, name=NEUTRAL_DICOM_NAME)


def mask_outside(image: np.ndarray, roi: Roi) -> np.ndarray:
    """A copy of ``image`` with every pixel outside ``roi`` set to 0 (burned-in text, panels)."""
    masked = np.zeros_like(image)
    masked[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w] = roi.crop(image)
    return masked


def describe(identifiers: list[str], roi: Roi | None, masked: bool) -> str:
    """One line for an export's header saying what was removed."""
    parts = ["no DICOM attributes copied"]
    if identifiers:
        parts.append("input identifiers left out: " + " ".join(identifiers))
    if masked and roi is not None:
        parts.append("burned-in text outside the image region {} masked".format(
            ",".join(str(v) for v in roi.as_list())))  # fmt: skip
    else:
        parts.append("burned-in text kept (--keep-burned-in)")
    return "; ".join(parts)
