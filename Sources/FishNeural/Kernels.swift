import CKernels

/// The float32 kernels of the engine besides the 1x1 convolutions (`PackedPointwise`).
/// Activations are NHWC: a row of C channels per pixel, so a 1x1 convolution over M pixels is a
/// matrix product and a depthwise convolution vectorises over channels.
public enum Kernels {
    /// TensorFlow SAME padding: the output size and the padding before (top or left);
    /// when the total is odd the extra pixel goes after (bottom or right).
    public static func samePadding(size: Int, kernel: Int, stride: Int) -> (output: Int, before: Int) {
        let output = (size + stride - 1) / stride
        let total = max((output - 1) * stride + kernel - size, 0)
        return (output, total / 2)
    }

    /// Depthwise k x k convolution with TF SAME padding, bias and ReLU6 fused, split between
    /// `threads` threads the way the 1x1 convolution before it split its output, so each thread
    /// mostly reads what it wrote: by rows, or for few pixels by pairs of 16-channel blocks, in
    /// chunks the threads of `team` share out.
    /// `weights` are tap-major: `weights[(ky * k + kx) * C + c]`.
    public static func depthwise(
        _ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, kernel: Int, stride: Int,
        output: UnsafeMutablePointer<Float>, threads: Int, team: ThreadTeam? = nil,
        instructionSet: InstructionSet = .engine
    ) {
        let (outHeight, padTop) = samePadding(size: height, kernel: kernel, stride: stride)
        let (outWidth, padLeft) = samePadding(size: width, kernel: kernel, stride: stride)
        let run = { (rows: Range<Int>, channelRange: Range<Int>) in
            let status = fish_depthwise(
                instructionSet.rawValue, input, Int32(height), Int32(width), Int32(channels),
                weights, bias, Int32(kernel), Int32(stride), Int32(padTop), Int32(padLeft),
                Int32(outHeight), Int32(outWidth), Int32(rows.lowerBound), Int32(rows.upperBound),
                Int32(channelRange.lowerBound), Int32(channelRange.upperBound), 1, output)
            precondition(status == 0, "this CPU does not run the \(instructionSet) kernel")
        }
        let pairWidth = 32
        let pairs = (channels + pairWidth - 1) / pairWidth
        let blocks = (channels + 15) / 16
        if batch * height * width >= threads * PackedPointwise.rowsPerThread || blocks < 2 * threads {
            // Chunks of a band, or smaller so that each thread gets at least two (single rows at
            // 7x7, whose 5x5 layers' halves of 3 and 4 rows took 0.72-0.84x the time shared out
            // row by row).
            let band = Int(
                fish_depthwise_band_rows(
                    Int32(height), Int32(width), Int32(channels), Int32(kernel),
                    Int32(stride)))
            let chunkRows = max(min(band, outHeight / (2 * threads)), 1)
            Parallel.ranges(batch * outHeight, threads: threads, team: team, chunks: batch * outHeight / chunkRows) {
                run($0, 0..<channels)
            }
        } else {
            Parallel.ranges(pairs, threads: threads, team: team, chunks: pairs) { range in
                run(0..<(batch * outHeight), (range.lowerBound * pairWidth)..<min(range.upperBound * pairWidth, channels))
            }
        }
    }

    /// Averages each image's `pixels` rows of `data` into one row of `channels` values.
    public static func globalAveragePool(
        _ data: UnsafePointer<Float>, batch: Int, pixels: Int, channels: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(pixels)
        for image in 0..<batch {
            let target = output + image * channels
            target.update(repeating: 0, count: channels)
            for pixel in 0..<pixels {
                let row = data + (image * pixels + pixel) * channels
                for c in 0..<channels { target[c] += row[c] }
            }
            for c in 0..<channels { target[c] *= scale }
        }
    }
}
