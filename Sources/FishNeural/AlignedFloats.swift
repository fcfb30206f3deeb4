/// Uninitialised memory for `count` floats on a 64-byte boundary (free it with `deallocate()`).
/// The kernels load and store 16 floats at a time; `allocate(capacity:)` only gives 16-byte
/// alignment, where every such vector of a channel row straddles two cache lines.
func allocateAlignedFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}
