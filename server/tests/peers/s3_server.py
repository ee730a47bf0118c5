"""A real S3-compatible server for the tests: moto in server mode on loopback.

Prints "READY <port>" once it answers. Buckets are created by the test over
HTTP like with any S3 server.
"""

import argparse
import signal
import threading
import urllib.request

from moto.server import ThreadedMotoServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=a.port, verbose=False)
    server.start()
    urllib.request.urlopen(f"http://127.0.0.1:{a.port}/moto-api/").read()
    print(f"READY {a.port}", flush=True)
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
