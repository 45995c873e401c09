"""Call processing: the B2BUA core (legs as call events), routing to contacts, CDRs.

`B2bua` is the entry point the dispatcher feeds; `Call` relays call events between a caller's
leg and the callee's legs; `IncomingLeg` / `OutgoingLeg` turn SIP into events and back.
"""

from ssw.core.call.b2bua import B2bua, B2buaConfig
from ssw.core.call.call import Call, Phase
from ssw.core.call.cdr import CallRecord, CsvCdrWriter, MemoryCdrSink
from ssw.core.call.routing import ForkPlan, Target

__all__ = [
    "B2bua",
    "B2buaConfig",
    "Call",
    "CallRecord",
    "CsvCdrWriter",
    "ForkPlan",
    "MemoryCdrSink",
    "Phase",
    "Target",
]
