#!/usr/bin/env python3
"""One raw NSM request through /dev/nsm (the Nitro Secure Module driver, Linux >= 6.8 `drivers/virt/nsm.c`, or the
aws-nitro-enclaves-sdk's `nsm` driver): CBOR request bytes on stdin, CBOR response bytes on stdout.

The driver takes one ioctl, NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw), with

    struct nsm_iovec { __u64 addr; __u64 len; };
    struct nsm_raw   { struct nsm_iovec request; struct nsm_iovec response; };

request <= 0x1000 bytes, response buffer 0x3000 bytes; the driver writes the response's length back into
response.len. Node has no ioctl, so the agent (ioctlTransport.ts) runs this helper per request (standard library
only: ctypes for the iovecs, fcntl.ioctl for the call).

Exit status: 0 with the response on stdout; 2 when the device cannot be opened; 3 when the ioctl fails;
4 for a request over the size limit. `--describe` prints the ioctl number and struct size (for tests).
"""
import ctypes
import fcntl
import json
import os
import sys

NSM_MAGIC = 0x0A
NSM_REQUEST_MAX_SIZE = 0x1000
NSM_RESPONSE_MAX_SIZE = 0x3000


class NsmIovec(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class NsmRaw(ctypes.Structure):
    _fields_ = [("request", NsmIovec), ("response", NsmIovec)]


def _iowr(magic: int, nr: int, size: int) -> int:
    # Linux asm-generic/ioctl.h: dir (2 bits: read|write = 3) << 30 | size (14 bits) << 16 | type << 8 | nr
    return (3 << 30) | (size << 16) | (magic << 8) | nr


NSM_IOCTL_RAW = _iowr(NSM_MAGIC, 0, ctypes.sizeof(NsmRaw))


def call(device: str, request: bytes) -> bytes:
    req = ctypes.create_string_buffer(request, len(request))
    res = ctypes.create_string_buffer(NSM_RESPONSE_MAX_SIZE)
    msg = NsmRaw(NsmIovec(ctypes.addressof(req), len(request)), NsmIovec(ctypes.addressof(res), NSM_RESPONSE_MAX_SIZE))
    fd = os.open(device, os.O_RDWR)
    try:
        # msg is a writable buffer: fcntl passes it to the kernel and copies the driver's writes (response.len) back.
        fcntl.ioctl(fd, NSM_IOCTL_RAW, msg, True)
    finally:
        os.close(fd)
    return res.raw[: msg.response.len]


def main(argv: list[str]) -> int:
    if "--describe" in argv:
        print(json.dumps({"ioctl": NSM_IOCTL_RAW, "structSize": ctypes.sizeof(NsmRaw), "requestMax": NSM_REQUEST_MAX_SIZE, "responseMax": NSM_RESPONSE_MAX_SIZE}))
        return 0
    device = argv[argv.index("--device") + 1] if "--device" in argv else "/dev/nsm"
    request = sys.stdin.buffer.read()
    if len(request) > NSM_REQUEST_MAX_SIZE:
        print(f"request of {len(request)} bytes is over {NSM_REQUEST_MAX_SIZE}", file=sys.stderr)
        return 4
    try:
        fd = os.open(device, os.O_RDWR)
        os.close(fd)
    except OSError as e:
        print(f"cannot open {device}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        response = call(device, request)
    except OSError as e:
        print(f"NSM ioctl failed: {e.strerror}", file=sys.stderr)
        return 3
    sys.stdout.buffer.write(response)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
