"""`python -m newsarchive.demo_site [--port 8000]`: serve the demo sites until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from .server import serve_demo_site


def main(argv: list[str] | None = None) -> None:
    """Serve the demo sites on the given host and port until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m newsarchive.demo_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    args = parser.parse_args(argv)
    try:
        server = serve_demo_site(args.host, args.port)
    except OSError as error:
        parser.exit(1, f"cannot listen on {args.host}:{args.port}: {error.strerror}\n")
    with server:
        print(f"Demo news sites at {server.url}/ (Ctrl-C to stop)\n")
        print(server.sources_toml(), flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nStopped.")


if __name__ == "__main__":
    main()
