import CKernels

/// A 1x1 convolution (or linear layer) with its bias, its weights packed once into the panels of
/// 16 output channels that `fish_pointwise` reads, in a 64-byte aligned buffer.
public final class PackedPointwise: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    nonisolated(unsafe) private let packed: UnsafeMutablePointer<Float>

    /// Packs `weights[outChannels][inChannels]` and `bias[outChannels]`.
    public init(weights: [Float], bias: [Float], inChannels: Int) {
        precondition(
            inChannels > 0 && !bias.isEmpty && weights.count == bias.count * inChannels,
            "weights do not match bias and inChannels")
        self.inChannels = inChannels
        outChannels = bias.count
        let count = fish_pointwise_packed_floats(Int32(inChannels), Int32(bias.count))
        packed = allocateAlignedFloats(count)
        fish_pointwise_pack(weights, bias, Int32(inChannels), Int32(bias.count), packed)
    }

    deinit { packed.deallocate() }

    /// `output[rows, outChannels] = act(input[rows, inChannels] x weights^T + bias (+ residual))`,
    /// ReLU6 when `relu6`. Large layers split their rows between `threads` threads, small ones
    /// (few pixels, many channels) their output panels; on `team` when given, in chunks its
    /// threads share out (see `chunks(rows:threads:)`).
    public func apply(
        _ input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>, relu6: Bool,
        residual: UnsafePointer<Float>? = nil, threads: Int, team: ThreadTeam? = nil,
        instructionSet: InstructionSet = .engine
    ) {
        let panels = (outChannels + Int(FISH_POINTWISE_PANEL) - 1) / Int(FISH_POINTWISE_PANEL)
        let run = { (rowRange: Range<Int>, panelRange: Range<Int>) in
            let status = fish_pointwise(
                instructionSet.rawValue, input, Int32(self.inChannels), self.packed,
                Int32(self.outChannels), Int32(rowRange.lowerBound), Int32(rowRange.upperBound),
                Int32(panelRange.lowerBound), Int32(panelRange.upperBound), residual,
                relu6 ? 1 : 0, output)
            precondition(status == 0, "this CPU does not run the \(instructionSet) kernel")
        }
        if rows >= threads * Self.rowsPerThread || panels < 2 * threads {
            Parallel.ranges(
                rows, threads: min(threads, max(rows / 8, 1)), team: team,
                chunks: Self.chunks(rows: rows, threads: threads)
            ) { run($0, 0..<panels) }
        } else {
            // Panels in pairs, so that each thread's tiles are two panels wide.
            let pairs = (panels + 1) / 2
            Parallel.ranges(pairs, threads: threads, team: team, chunks: pairs) { range in
                run(0..<rows, (range.lowerBound * 2)..<min(range.upperBound * 2, panels))
            }
        }
    }

    /// The stem, this layer holding a 3x3 convolution over RGB patches ordered (ky, kx, channel):
    /// output rows `rows` (of `ceil(height / 2)`) of the stride-2 convolution of `image` (NHWC,
    /// TF SAME padding) with bias and ReLU6, into `output`, the whole output. `scratch` holds
    /// `Self.stemScratchFloats(width:)` floats for this call alone.
    public func applyStem(
        _ image: UnsafePointer<Float>, height: Int, width: Int, rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
        instructionSet: InstructionSet = .engine
    ) {
        precondition(inChannels == 27, "the stem convolves 3x3 RGB patches")
        let status = fish_stem(
            instructionSet.rawValue, image, Int32(height), Int32(width), packed, Int32(outChannels),
            Int32(rows.lowerBound), Int32(rows.upperBound), scratch, output)
        precondition(status == 0, "this CPU does not run the \(instructionSet) kernel")
    }

    /// Floats of scratch one `applyStem` call needs for an image `width` pixels wide.
    public static func stemScratchFloats(width: Int) -> Int { fish_stem_scratch_floats(Int32(width)) }

    /// Below this many rows per thread a layer is split by output channels instead. Splitting
    /// even the 7x7 layers (49 rows) by rows keeps each thread's activations on its own core
    /// through the last blocks, at the cost of each reading all their weights: 2-thread batch-1
    /// 6.58 -> 6.27 ms against 64 rows per thread.
    static let rowsPerThread = 16

    /// How many chunks a row split shares out between `threads` threads of a team (the two vCPUs
    /// here often run at different speeds for a while): blocks of 64 rows where there are at least
    /// four per thread, else tiles of 8 rows where there are at least eight per thread; a 7x7
    /// layer (49 rows) stays in one piece per thread, since each chunk reads all the weights
    /// again (1.00-1.08x the time in 7 chunks, while 14x14 to 56x56 layers ran in 0.85-1.02x,
    /// median 0.93).
    static func chunks(rows: Int, threads: Int) -> Int {
        let blocks = (rows + 63) / 64
        if blocks >= 4 * threads { return blocks }
        return rows >= 8 * 8 * threads ? (rows + 7) / 8 : threads
    }
}
