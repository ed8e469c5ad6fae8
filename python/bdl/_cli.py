"""The `bdl` command that pip installs: runs the C++ command shipped in the
package (bdl/bin/bdl)."""
import os
import sys


def main() -> None:
    binary = os.path.join(os.path.dirname(__file__), "bin", "bdl")
    if not os.path.exists(binary):
        sys.exit("bdl: the command is not in this installation (a build tree's package has "
                 "none; use BUILD/bdl)")
    os.execv(binary, [binary, *sys.argv[1:]])
