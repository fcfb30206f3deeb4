# A peer engine for `fishops bench`: ONNX Runtime or OpenVINO (settings["runtime"]) on the
# exported graph. One session per thread count, the logits check, then timed passes on request
# (one JSON line in, one out) until standard input closes, the calling thread (the one a 1-thread
# session runs on) pinned for a request that names a CPU. Times come from `perf_counter` around
# each run. Thread pools stop spinning when a run ends, as ours stop 0.2 ms after a loop.
import json, os, sys, time
import numpy as np

s = json.loads(sys.argv[1])
batch, size = s["batch"], s["size"]
x = np.fromfile(s["input"], dtype=np.float32).reshape(batch, 3, size, size)
ours = np.fromfile(s["logits"], dtype=np.float32).reshape(batch, -1)
one = x[:1]


def onnx_runtime(threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Its worker threads otherwise spin for about 50 ms after each run, taking cores from the pass
    # of ours that follows (it does not change a run's own speed).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    session = ort.InferenceSession(s["model"], options, providers=["CPUExecutionProvider"])
    return ort.__version__, lambda feed: session.run(["logits"], {"input": feed})[0]


def openvino(threads):
    import openvino as ov
    core = ov.Core()
    # f32 as ours, one stream of `threads` threads; it pins nothing itself (the 1-thread pairs
    # pin the calling thread to a CPU, as for ours).
    config = {
        "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False,
    }
    requests = {}
    for count in (1, batch):  # static shapes, compiled once each
        model = core.read_model(s["model"])
        model.reshape([count, 3, size, size])
        requests[count] = core.compile_model(model, "CPU", config).create_infer_request()

    def run(feed):
        request = requests[feed.shape[0]]
        request.infer({0: feed}, share_inputs=True)
        return request.get_output_tensor(0).data

    return ov.__version__, run


make = {"onnxruntime": onnx_runtime, "openvino": openvino}[s["runtime"]]
runners = {}
difference = 0.0
version = ""
for threads in s["threads"]:
    version, run = make(threads)
    run(one)
    difference = max(difference, float(np.abs(run(x) - ours).max()))
    runners[threads] = run


def timed(run, feed):
    start = time.perf_counter()
    run(feed)
    return (time.perf_counter() - start) * 1000


print(json.dumps({"version": version, "max_logit_difference": difference}), flush=True)
allowed = sorted(os.sched_getaffinity(0))
for line in sys.stdin:
    request = json.loads(line)
    run = runners[request["threads"]]
    if "cpu" in request:
        os.sched_setaffinity(0, {allowed[request["cpu"] % len(allowed)]})
    if request.get("batch"):
        answer = {"ms": timed(run, x)}
    else:
        answer = {"times": [timed(run, one) for _ in range(request["single"])]}
    if "cpu" in request:
        os.sched_setaffinity(0, allowed)
    print(json.dumps(answer), flush=True)
