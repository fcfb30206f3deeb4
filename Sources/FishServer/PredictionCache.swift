import Crypto
import FishServices
import Foundation
import Prometheus
import Synchronization

/// Recent answers, keyed by the sha256 of the image bytes and the model version that answered,
/// evicting the least recently used entry when full. A capacity of 0 turns the cache off.
final class PredictionCache: Sendable {
    struct Key: Hashable, Sendable {
        /// The sha256 of the image bytes.
        let image: [UInt8]
        let model: String
        let version: Int

        /// The image's sha256 in hex. (Every answer needs it: a digit table, not `String(format:)`,
        /// which costs hundreds of times more per byte.)
        var imageHex: String {
            let digits = Array("0123456789abcdef".utf8)
            var text = [UInt8](repeating: 0, count: image.count * 2)
            for (index, byte) in image.enumerated() {
                text[2 * index] = digits[Int(byte >> 4)]
                text[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return String(decoding: text, as: UTF8.self)
        }
    }

    private struct State {
        var entries: LRUStorage<Key, [Prediction]>
        var hits = 0
        var misses = 0
    }

    let capacity: Int
    private let state: Mutex<State>
    private let metrics: ServerMetrics

    init(capacity: Int, metrics: ServerMetrics) {
        self.capacity = max(capacity, 0)
        self.metrics = metrics
        state = Mutex(State(entries: LRUStorage(capacity: max(capacity, 0))))
    }

    /// The key of `bytes` classified by `model`.
    static func key(_ bytes: some DataProtocol, model: LoadedModel) -> Key {
        Key(image: Array(SHA256.hash(data: bytes)), model: model.name, version: model.version)
    }

    /// The cached predictions for `key`, counting a hit or a miss.
    func lookup(_ key: Key) -> [Prediction]? {
        guard capacity > 0 else { return nil }
        let (found, ratio) = state.withLock { state -> ([Prediction]?, Double) in
            let found = state.entries.value(for: key)
            if found == nil { state.misses += 1 } else { state.hits += 1 }
            return (found, Double(state.hits) / Double(state.hits + state.misses))
        }
        (found == nil ? metrics.cacheMisses : metrics.cacheHits).increment()
        metrics.cacheHitRatio.set(to: ratio)
        return found
    }

    func store(_ predictions: [Prediction], for key: Key) {
        guard capacity > 0 else { return }
        state.withLock { $0.entries.insert(predictions, for: key) }
    }

    /// Entries held now.
    var count: Int { state.withLock { $0.entries.count } }

    /// Entries, hits and misses since the server started.
    var summary: ServerStats.Cache {
        state.withLock { ServerStats.Cache(entries: $0.entries.count, hits: $0.hits, misses: $0.misses) }
    }
}

/// A fixed-capacity map that forgets its least recently used key: slots in an array, linked
/// most recent first, so lookups, inserts and evictions are O(1) and nothing is allocated once full.
struct LRUStorage<Key: Hashable, Value> {
    private struct Slot {
        var key: Key
        var value: Value
        var newer: Int?
        var older: Int?
    }

    let capacity: Int
    private var slots: [Slot] = []
    private var index: [Key: Int] = [:]
    private var newest: Int?
    private var oldest: Int?

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { slots.count }

    /// The value for `key`, which becomes the most recently used.
    mutating func value(for key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        moveToFront(slot)
        return slots[slot].value
    }

    /// Stores `value` as the most recently used, evicting the least recently used key when full.
    mutating func insert(_ value: Value, for key: Key) {
        guard capacity > 0 else { return }
        if let slot = index[key] {
            slots[slot].value = value
            moveToFront(slot)
            return
        }
        if slots.count < capacity {
            slots.append(Slot(key: key, value: value))
            index[key] = slots.count - 1
            link(slots.count - 1)
            return
        }
        guard let slot = oldest else { return }
        unlink(slot)
        index[slots[slot].key] = nil
        slots[slot].key = key
        slots[slot].value = value
        index[key] = slot
        link(slot)
    }

    private mutating func moveToFront(_ slot: Int) {
        guard newest != slot else { return }
        unlink(slot)
        link(slot)
    }

    /// Makes `slot` the newest.
    private mutating func link(_ slot: Int) {
        slots[slot].newer = nil
        slots[slot].older = newest
        if let newest { slots[newest].newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (slots[slot].newer, slots[slot].older)
        if let newer { slots[newer].older = older } else { newest = older }
        if let older { slots[older].newer = newer } else { oldest = newer }
    }
}
