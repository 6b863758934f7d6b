"""Linux x86-64 ABI constants and structure layouts.

Numbers and flag names live here and only here.  Generated modules say which
uapi header they come from; ``tools/gen_abi.py`` regenerates them.
"""
