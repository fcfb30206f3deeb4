/// A small, fast, reproducible generator (SplitMix64): the same seed gives the same sequence on
/// every machine, which Swift's system generator does not promise.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator seeded from several values (a seed and, say, a trial or view number).
    public init(_ parts: UInt64...) {
        var mixer = SeededRandom(seed: 0x9E37_79B9_7F4A_7C15)
        for part in parts {
            mixer.state ^= part
            _ = mixer.next()
        }
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<1`.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal value (Box-Muller).
    public mutating func normal() -> Double {
        let u = max(unit(), 1e-300)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
    }
}

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif
