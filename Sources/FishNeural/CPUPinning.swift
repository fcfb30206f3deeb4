import CKernels

/// Runs work on one CPU, for side-by-side measurements: two vCPUs of a VM can run at different
/// speeds for seconds at a time, so two engines compared pass by pass must run on the same one.
public enum CPUPinning {
    /// Runs `body` on the calling thread pinned to the `index`-th (modulo their count) of the CPUs
    /// it may run on, then restores them; unpinned if the thread's CPUs cannot be set. Threads
    /// started inside `body` inherit the pin.
    public static func run(onCPU index: Int, _ body: () -> Void) {
        withoutActuallyEscaping(body) { body in
            var work = body
            let status = withUnsafeMutablePointer(to: &work) { pointer in
                fish_run_pinned(
                    Int32(truncatingIfNeeded: index),
                    { context in
                        context?.assumingMemoryBound(to: (() -> Void).self).pointee()
                    }, pointer)
            }
            if status != 0 { body() }
        }
    }
}
