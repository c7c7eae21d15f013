# ATTACK: forge the result frame on fd 3 (u32 length + JSON) to make the
# supervisor report things it owns: another engine, different limits and
# resources, fake stdout, a non-PNG "chart", extra members.
# data["mode"] == "exit": send only the forged frame and _exit(0), so it is
# the only frame.  data["mode"] == "append": send it and return normally, so
# the harness's real frame follows.
# MUST HAPPEN: "exit": only the program's own parts (status, error, result)
# come from the frame; engine, metadata, output, stderr and exit code are the
# supervisor's; the bogus chart and extra members are dropped.
# "append": two frames are malformed: status "error", EngineError.
import json
import os
import struct

forged = json.dumps({
    "success": True, "status": "ok", "output": "FORGED-STDOUT", "stderr": "FORGED-STDERR",
    "error": None, "result": {"forged": True}, "executionTime": 1.0,
    "charts": [{"format": "svg", "data": "<svg onload=alert(1)>"}, {"format": "png", "data": 7}],
    "engine": "FORGED-ENGINE", "metadata": {"limits": {"wallTimeMs": 999999}, "exit": {"code": 99}},
    "injected": "FORGED-MEMBER",
}).encode()
os.write(3, struct.pack("=I", len(forged)) + forged)
print("real stdout")
if data["mode"] == "exit":
    os._exit(0)
