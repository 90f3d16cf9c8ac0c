"""A stand-in for nvidia-ml-py's `pynvml`, for tests of gpu-workers/agent/tsm/nvml_report.py on a machine without
an NVIDIA driver. It reproduces the few names the helper uses, with nvidia-ml-py's shapes (ctypes structs whose
sizes are NVML's: nonce 32, report 0x2000, certificate chains 0x1000 / 0x1400), and answers with NVIDIA's real
Hopper sample report and chain (shared/fixtures/nvidia). It cannot sign our nonce, so the report it returns still
carries the sample's nonce; it writes the nonce it was asked for to $PROVENA_TEST_NVML_NONCE_FILE so a test can
check what the helper sent. $PROVENA_TEST_NVML_FAIL=1 makes the report call fail as NVML does without CC mode (an H200 with CC off answers
NVML_ERROR_UNKNOWN, 999: checked on one).
"""
import ctypes
import os

_FIXTURES = os.environ.get("PROVENA_TEST_NVML_FIXTURES", "/work/shared/fixtures/nvidia")


class NVMLError(Exception):
    pass


class c_nvmlConfComputeGpuAttestationReport_t(ctypes.Structure):
    _fields_ = [
        ("isCecAttestationReportPresent", ctypes.c_uint),
        ("attestationReportSize", ctypes.c_uint),
        ("cecAttestationReportSize", ctypes.c_uint),
        ("nonce", ctypes.c_uint8 * 0x20),
        ("attestationReport", ctypes.c_uint8 * 0x2000),
        ("cecAttestationReport", ctypes.c_uint8 * 0x1000),
    ]


class c_nvmlConfComputeGpuCertificate_t(ctypes.Structure):
    _fields_ = [
        ("certChainSize", ctypes.c_uint),
        ("attestationCertChainSize", ctypes.c_uint),
        ("certChain", ctypes.c_uint8 * 0x1000),
        ("attestationCertChain", ctypes.c_uint8 * 0x1400),
    ]


_state = {"init": False}


def nvmlInit():
    _state["init"] = True


def nvmlShutdown():
    _state["init"] = False


def nvmlDeviceGetHandleByIndex(index):
    if not _state["init"]:
        raise NVMLError("Uninitialized")
    if index != 0:
        raise NVMLError("Invalid Argument")
    return object()


def nvmlDeviceGetConfComputeGpuAttestationReport(handle, c_nonce):
    # nvidia-ml-py's signature (13.610.43): the nonce bytes in, the filled struct out.
    if os.environ.get("PROVENA_TEST_NVML_FAIL") == "1":
        raise NVMLError("Unknown Error")
    report = c_nvmlConfComputeGpuAttestationReport_t()
    report.nonce = (ctypes.c_uint8 * len(c_nonce))(*c_nonce)
    out = os.environ.get("PROVENA_TEST_NVML_NONCE_FILE")
    if out:
        with open(out, "w") as f:
            f.write(bytes(bytearray(report.nonce)).hex())
    with open(os.path.join(_FIXTURES, "hopperAttestationReport.txt")) as f:
        data = bytes.fromhex(f.read().strip())
    ctypes.memmove(report.attestationReport, data, len(data))
    report.attestationReportSize = len(data)
    return report


def nvmlDeviceGetConfComputeGpuCertificate(handle):
    cert = c_nvmlConfComputeGpuCertificate_t()
    with open(os.path.join(_FIXTURES, "hopperCertChain.txt"), "rb") as f:
        data = f.read()
    ctypes.memmove(cert.attestationCertChain, data, len(data))
    cert.attestationCertChainSize = len(data)
    return cert
