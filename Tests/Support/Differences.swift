/// The largest |a - b| over `pairs`, infinite if any difference is NaN (which `max` would skip).
public func largestDifference<T: BinaryFloatingPoint>(_ pairs: some Sequence<(T, T)>) -> T {
    pairs.reduce(0) { worst, pair in
        let difference = abs(pair.0 - pair.1)
        return difference.isNaN ? .infinity : max(worst, difference)
    }
}
