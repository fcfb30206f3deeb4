# One session per thread count, the logits check, then timed passes on request (one JSON
# line in, one out) until standard input closes, the calling thread (the one a 1-thread
# session runs on) pinned for a request that names a CPU. Times come from `perf_counter`
# around each run. Its thread pools stop spinning when a run ends, as ours stop 0.2 ms
# after a loop.
import json, os, sys, time
import numpy as np
import onnxruntime as ort

s = json.loads(sys.argv[1])
batch, size = s["batch"], s["size"]
x = np.fromfile(s["input"], dtype=np.float32).reshape(batch, 3, size, size)
ours = np.fromfile(s["logits"], dtype=np.float32).reshape(batch, -1)
one = x[:1]
sessions = {}
difference = 0.0
for threads in s["threads"]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Its worker threads otherwise spin for about 50 ms after each run, taking cores from the pass
    # of ours that follows (it does not change a run's own speed).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    session = ort.InferenceSession(s["model"], options, providers=["CPUExecutionProvider"])
    session.run(["logits"], {"input": one})
    logits = session.run(["logits"], {"input": x})[0]
    difference = max(difference, float(np.abs(logits - ours).max()))
    sessions[threads] = session

def timed(session, feed):
    start = time.perf_counter()
    session.run(["logits"], {"input": feed})
    return (time.perf_counter() - start) * 1000

print(json.dumps({"version": ort.__version__, "max_logit_difference": difference}), flush=True)
allowed = sorted(os.sched_getaffinity(0))
for line in sys.stdin:
    request = json.loads(line)
    session = sessions[request["threads"]]
    if "cpu" in request:
        os.sched_setaffinity(0, {allowed[request["cpu"] % len(allowed)]})
    if request.get("batch"):
        answer = {"ms": timed(session, x)}
    else:
        answer = {"times": [timed(session, one) for _ in range(request["single"])]}
    if "cpu" in request:
        os.sched_setaffinity(0, allowed)
    print(json.dumps(answer), flush=True)
