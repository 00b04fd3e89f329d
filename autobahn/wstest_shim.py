# -*- coding: utf-8 -*-
"""Python 2 entry point for wstest (autobahntestsuite 0.8.2), used by autobahn/wstest.

Stock wstest has two behaviours we do not want on a shared machine:

* Every listening socket is bound to all interfaces: fuzzing.startServer()
  calls autobahn's listenWS(factory, ctx), whose `interface` defaults to ''
  (0.0.0.0), and the host part of the spec's "url" is ignored for binding.
  We therefore wrap the reactor's listenTCP/listenSSL so that an unspecified
  interface ('' or 0.0.0.0) becomes $WSTEST_BIND_INTERFACE (default
  127.0.0.1). An explicitly given interface is left alone.

* fuzzingserver/echoserver also start an embedded web UI on port 8080 unless
  `-u/--webport 0` is given on the command line (the spec file has no such
  option: 0.8.2 only reads the command line). We default it to 0 here; pass
  `-u PORT` explicitly to get the UI back (it is bound to loopback too).

It also silences cryptography's "Python 2 is no longer supported" warning.
"""
import os
import sys
import warnings

warnings.filterwarnings("ignore", message=".*Python 2 is no longer supported.*")

# Importing wstest installs the Twisted reactor (its first import is
# autobahntestsuite.choosereactor), so patch the reactor instance afterwards.
from autobahntestsuite import wstest  # noqa: E402
from twisted.internet import reactor  # noqa: E402

BIND = os.environ.get("WSTEST_BIND_INTERFACE", "127.0.0.1")


def _loopback(orig, iface_index):
    """Wrap reactor.listenTCP / listenSSL so an unspecified interface is BIND.

    Twisted's signatures are listenTCP(port, factory, backlog=50, interface='')
    and listenSSL(port, factory, contextFactory, backlog=50, interface=''), so
    `interface` is positional argument number `iface_index` after port, factory.
    """
    def listen(port, factory, *args, **kwargs):
        args = list(args)
        if len(args) > iface_index:
            if args[iface_index] in ("", "0.0.0.0"):
                args[iface_index] = BIND
        elif kwargs.get("interface", "") in ("", "0.0.0.0"):
            kwargs["interface"] = BIND
        listener = orig(port, factory, *args, **kwargs)
        addr = listener.getHost()
        sys.stdout.write("wstest_shim: listening on %s:%s\n" % (addr.host, addr.port))
        sys.stdout.flush()
        return listener
    return listen


reactor.listenTCP = _loopback(reactor.listenTCP, 1)
reactor.listenSSL = _loopback(reactor.listenSSL, 2)


def _has_webport(argv):
    for a in argv:
        if a in ("-u", "--webport") or a.startswith("--webport=") or \
                (a.startswith("-u") and len(a) > 2):
            return True
    return False


if __name__ == "__main__":
    sys.argv[0] = "wstest"
    if not _has_webport(sys.argv[1:]):
        sys.argv.append("--webport=0")
    sys.exit(wstest.run())
