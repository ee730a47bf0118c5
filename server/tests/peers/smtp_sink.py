"""A real SMTP server for the tests: aiosmtpd on loopback.

Accepted messages are written one file each to --dir (written to a temp
name, then renamed, so a reader never sees half a message). With --refuse
CODE every RCPT TO is answered with that code (e.g. 550), the way a relay
refuses a recipient. Prints "READY <port>" once it listens.
"""

import argparse
import asyncio
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, refuse):
        self.directory = directory
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return f"{self.refuse} 5.7.1 Relaying denied by test sink"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = f"{os.getpid()}-{self.count:05d}"
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.directory, f"{name}.eml"))
        return f"250 2.0.0 Ok: queued as test-{name}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--refuse", default="")
    a = p.parse_args()
    controller = Controller(Sink(a.dir, a.refuse), hostname="127.0.0.1", port=a.port)
    controller.start()
    print(f"READY {a.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
