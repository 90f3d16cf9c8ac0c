#!/usr/bin/env python3
"""The NVIDIA GPU's confidential-computing attestation report through NVML (pynvml, from the nvidia-ml-py package),
for the agent's `tsm` attestor (tsm/gpuReport.ts). Node has no NVML binding, so the agent runs this helper once
per attestation, as nsm/nsm_ioctl.py does for /dev/nsm.

    python3 nvml_report.py --nonce <64 hex> [--gpu <index>]

prints one JSON line {"report": base64, "certChain": base64, "nonce": hex} where `report` is
nvmlDeviceGetConfComputeGpuAttestationReport's attestationReport[:attestationReportSize] (the SPDM
GET_MEASUREMENTS request carrying the 32-byte nonce, then the GPU's signed response) and `certChain` is
nvmlDeviceGetConfComputeGpuCertificate's attestationCertChain[:attestationCertChainSize] (PEM, leaf first, up to
NVIDIA's Device Identity CA): the documents shared/attestation/nvidia.ts verifies.

Exit status: 0 with the JSON on stdout; 2 pynvml is not importable; 3 an NVML call failed (no GPU, CC mode off,
driver too old); 4 a bad argument. Run once on an H200 with CC off (driver 580.159.04, nvidia-ml-py
13.610.43): the report call is made as written here and NVML answers NVML_ERROR_UNKNOWN (999), so exit 3.
"""
import base64
import json
import sys

NONCE_SIZE = 32


def fail(code, message):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def parse_args(argv):
    nonce, gpu = None, 0
    i = 0
    while i < len(argv):
        if argv[i] == "--nonce" and i + 1 < len(argv):
            nonce = argv[i + 1]
            i += 2
        elif argv[i] == "--gpu" and i + 1 < len(argv):
            gpu = int(argv[i + 1])
            i += 2
        else:
            fail(4, "usage: nvml_report.py --nonce <64 hex> [--gpu <index>]")
    try:
        raw = bytes.fromhex(nonce or "")
    except ValueError:
        raw = b""
    if len(raw) != NONCE_SIZE:
        fail(4, "--nonce must be 32 bytes as 64 hex digits")
    return raw, gpu


def attestation_report(pynvml, handle, nonce):
    # nvidia-ml-py (checked with 13.610.43): takes the nonce bytes, sets them in the request struct, returns it.
    rep = pynvml.nvmlDeviceGetConfComputeGpuAttestationReport(handle, nonce)
    size = int(rep.attestationReportSize)
    if size <= 0 or size > len(rep.attestationReport):
        fail(3, "NVML returned an attestation report of size %d" % size)
    return bytes(bytearray(rep.attestationReport)[:size])


def main():
    nonce, gpu = parse_args(sys.argv[1:])
    try:
        import pynvml
    except ImportError as e:
        fail(2, "pynvml is not importable (pip install nvidia-ml-py): %s" % e)
    try:
        pynvml.nvmlInit()
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(gpu)
            report = attestation_report(pynvml, handle, nonce)
            cert = pynvml.nvmlDeviceGetConfComputeGpuCertificate(handle)
            size = int(cert.attestationCertChainSize)
            if size <= 0 or size > len(cert.attestationCertChain):
                fail(3, "NVML returned a certificate chain of size %d" % size)
            chain = bytes(bytearray(cert.attestationCertChain)[:size])
        finally:
            pynvml.nvmlShutdown()
    except SystemExit:
        raise
    except Exception as e:  # pynvml.NVMLError and ctypes errors
        fail(3, "NVML: %s" % e)
    sys.stdout.write(json.dumps({"report": base64.b64encode(report).decode(), "certChain": base64.b64encode(chain).decode(), "nonce": nonce.hex()}) + "\n")


if __name__ == "__main__":
    main()
