/// A value produced by `Unpickler`: the subset of Python objects that PyTorch checkpoints use.
indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A reference to a Python class or function (`GLOBAL module name`).
    case global(module: String, name: String)
    /// The result of calling a global that the reader does not model itself.
    case call(function: PickleValue, arguments: PickleValue)
    /// A persistent id: PyTorch uses these to refer to tensor storages stored beside the pickle.
    case persistent(PickleValue)

    var string: String? { if case let .string(value) = self { value } else { nil } }
    var int: Int? {
        switch self {
        case let .int(value): value
        case let .bool(value): value ? 1 : 0
        default: nil
        }
    }
    var tuple: [PickleValue]? {
        switch self {
        case let .tuple(items): items
        case let .list(list): list.items
        default: nil
        }
    }
}

/// A mutable Python list (pickle builds lists and dicts by mutation after memoising them).
final class PickleList: @unchecked Sendable {
    var items: [PickleValue] = []
    /// Nesting depth of the items (0 while empty of containers).
    var depth = 0
    /// Set once the list is inside another value: then it may no longer change (see `Unpickler`).
    var nested = false
}

/// A mutable Python dict, insertion-ordered.
final class PickleDict: @unchecked Sendable {
    var entries: [(key: PickleValue, value: PickleValue)] = []
    var depth = 0
    var nested = false

    subscript(key: String) -> PickleValue? {
        entries.first { $0.key.string == key }?.value
    }
}

/// Reads a pickle stream (protocols 0-5, the opcodes PyTorch writes) without executing code:
/// globals stay symbolic and calls become `.call` values, except those the reader is told to build.
///
/// Values nest at most `maxDepth` levels, so no value it builds is too deep to walk or free (a
/// deeply nested value would overflow the stack when released). Depths are known when each value
/// is built because a list or dict stops changing once it is inside another value, as in every
/// pickle Python writes for non-recursive data; a pickle that changes one later, or puts a list
/// inside itself, is refused.
struct Unpickler {
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)

        var description: String {
            switch self {
            case let .malformed(reason): reason
            }
        }
    }

    /// The deepest nesting accepted; a PyTorch state dict nests about 5 levels.
    static let maxDepth = 100

    private let bytes: [UInt8]
    private(set) var position: Int
    /// Values and their nesting depths (lists and dicts keep theirs themselves).
    private var stack: [PickleValue] = []
    private var depths: [Int] = []
    private var marks: [Int] = []
    private var memo: [Int: (value: PickleValue, depth: Int)] = [:]
    /// Builds the value of a call to a known global; returns nil to keep it symbolic.
    private let reduce: (PickleValue, PickleValue) throws -> PickleValue?

    init(bytes: [UInt8], position: Int = 0, reduce: @escaping (PickleValue, PickleValue) throws -> PickleValue?) {
        self.bytes = bytes
        self.position = position
        self.reduce = reduce
    }

    /// Reads one pickle (up to its STOP opcode) and returns its value.
    mutating func load() throws -> PickleValue {
        stack.removeAll()
        depths.removeAll()
        marks.removeAll()
        memo.removeAll()
        while true {
            let opcode = try readByte()
            if opcode == 0x2E { return try pop() }  // STOP
            try execute(opcode)
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func execute(_ opcode: UInt8) throws {
        switch opcode {
        case 0x80: _ = try readByte()  // PROTO
        case 0x95: position += 8  // FRAME
        case 0x28: marks.append(stack.count)  // MARK
        case 0x4E: try push(.none)  // NONE
        case 0x88: try push(.bool(true))  // NEWTRUE
        case 0x89: try push(.bool(false))  // NEWFALSE
        case 0x4B: try push(.int(Int(try readByte())))  // BININT1
        case 0x4D: try push(.int(try readUInt(2)))  // BININT2
        case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try readUInt(4)))))  // BININT
        case 0x8A: try push(.int(try readLong(Int(try readByte()))))  // LONG1
        case 0x47: try push(.float(Double(bitPattern: try readBigEndian64())))  // BINFLOAT
        case 0x58: try push(.string(try readString(try readUInt(4))))  // BINUNICODE
        case 0x8C: try push(.string(try readString(Int(try readByte()))))  // SHORT_BINUNICODE
        case 0x8D: try push(.string(try readString(try readUInt(8))))  // BINUNICODE8
        case 0x55: try push(.string(try readString(Int(try readByte()))))  // SHORT_BINSTRING
        case 0x54: try push(.string(try readString(try readUInt(4))))  // BINSTRING
        case 0x43: try push(.bytes(try readBytes(Int(try readByte()))))  // SHORT_BINBYTES
        case 0x42: try push(.bytes(try readBytes(try readUInt(4))))  // BINBYTES
        case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
        case 0x74: try pushTuple(try popMark())  // TUPLE
        case 0x85: try pushTuple(try popCount(1))  // TUPLE1
        case 0x86: try pushTuple(try popCount(2))  // TUPLE2
        case 0x87: try pushTuple(try popCount(3))  // TUPLE3
        case 0x5D: try push(.list(PickleList()))  // EMPTY_LIST
        case 0x7D: try push(.dict(PickleDict()))  // EMPTY_DICT
        case 0x61:  // APPEND
            let item = try popCount(1)
            let target = try list(at: stack.count - 1)
            target.depth = try nest(item, into: .list(target), depth: target.depth)
            target.items.append(contentsOf: item.map(\.value))
        case 0x65:  // APPENDS
            let items = try popMark()
            let target = try list(at: stack.count - 1)
            target.depth = try nest(items, into: .list(target), depth: target.depth)
            target.items.append(contentsOf: items.map(\.value))
        case 0x73:  // SETITEM
            let pair = try popCount(2)
            let target = try dict(at: stack.count - 1)
            target.depth = try nest(pair, into: .dict(target), depth: target.depth)
            target.entries.append((pair[0].value, pair[1].value))
        case 0x75:  // SETITEMS
            let items = try popMark()
            guard items.count % 2 == 0 else { throw Failure.malformed("odd SETITEMS") }
            let target = try dict(at: stack.count - 1)
            target.depth = try nest(items, into: .dict(target), depth: target.depth)
            for index in stride(from: 0, to: items.count, by: 2) {
                target.entries.append((items[index].value, items[index + 1].value))
            }
        case 0x63:  // GLOBAL
            let module = try readLine()
            let name = try readLine()
            try push(.global(module: module, name: name))
        case 0x93:  // STACK_GLOBAL
            let name = try pop()
            let module = try pop()
            guard let module = module.string, let name = name.string else { throw Failure.malformed("bad STACK_GLOBAL") }
            try push(.global(module: module, name: name))
        case 0x52:  // REDUCE
            let popped = try popCount(2)
            let (function, arguments) = (popped[0].value, popped[1].value)
            try push(try reduce(function, arguments) ?? .call(function: function, arguments: arguments), children: popped)
        case 0x81:  // NEWOBJ
            let popped = try popCount(2)
            try push(.call(function: popped[0].value, arguments: popped[1].value), children: popped)
        case 0x62: _ = try pop()  // BUILD: state is not needed
        case 0x51:  // BINPERSID
            let popped = try popCount(1)
            try push(.persistent(popped[0].value), children: popped)
        case 0x71: memo[Int(try readByte())] = try topWithDepth()  // BINPUT
        case 0x72: memo[try readUInt(4)] = try topWithDepth()  // LONG_BINPUT
        case 0x94: memo[memo.count] = try topWithDepth()  // MEMOIZE
        case 0x68: try push(memoized: Int(try readByte()))  // BINGET
        case 0x6A: try push(memoized: try readUInt(4))  // LONG_BINGET
        case 0x30: _ = try pop()  // POP
        case 0x32:
            let (value, depth) = try topWithDepth()
            try push(value, depth: depth)  // DUP
        case 0x31: _ = try popMark()  // POP_MARK
        default:
            throw Failure.malformed("unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(position - 1)")
        }
    }

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw Failure.malformed("unexpected end of pickle data") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else { throw Failure.malformed("unexpected end of pickle data") }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    private mutating func readUInt(_ count: Int) throws -> Int {
        let raw = try readBytes(count)
        let value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(Int.max) else { throw Failure.malformed("length out of range") }
        return Int(value)
    }

    private mutating func readBigEndian64() throws -> UInt64 {
        try readBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private mutating func readLong(_ count: Int) throws -> Int {
        guard count <= 8 else { throw Failure.malformed("integer too large") }
        let raw = try readBytes(count)
        guard let last = raw.last else { return 0 }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if last & 0x80 != 0, count < 8 { value |= ~UInt64(0) << (8 * count) }  // sign-extend
        return Int(Int64(bitPattern: value))
    }

    private mutating func readString(_ count: Int) throws -> String {
        String(decoding: try readBytes(count), as: UTF8.self)
    }

    private mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw Failure.malformed("unterminated GLOBAL") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    /// A value and its nesting depth, as the stack holds them (a list's or dict's own depth is current).
    private typealias Entry = (value: PickleValue, depth: Int)

    /// Pushes a leaf value.
    private mutating func push(_ value: PickleValue) throws {
        try push(value, depth: 0)
    }

    /// Pushes a value built from `children`, one level deeper than the deepest of them.
    private mutating func push(_ value: PickleValue, children: [Entry]) throws {
        try push(value, depth: try nest(children, into: value, depth: 0))
    }

    private mutating func pushTuple(_ items: [Entry]) throws {
        try push(.tuple(items.map(\.value)), children: items)
    }

    private mutating func push(_ value: PickleValue, depth: Int) throws {
        stack.append(value)
        depths.append(depth)
    }

    private mutating func push(memoized index: Int) throws {
        guard let (value, depth) = memo[index] else { throw Failure.malformed("unknown memo entry \(index)") }
        try push(value, depth: depth)
    }

    /// Marks the lists and dicts among `children` as inside `parent` (they may not change from
    /// now on) and returns the parent's depth: at least `depth`, one more than its deepest child.
    private func nest(_ children: [Entry], into parent: PickleValue, depth: Int) throws -> Int {
        if case let .list(target) = parent, target.nested { throw Failure.malformed("a list changed after it was nested") }
        if case let .dict(target) = parent, target.nested { throw Failure.malformed("a dict changed after it was nested") }
        var deepest = depth
        for child in children {
            var childDepth = child.depth
            switch child.value {
            case let .list(list):
                if case let .list(target) = parent, target === list { throw Failure.malformed("a list inside itself") }
                list.nested = true
                childDepth = list.depth
            case let .dict(dict):
                if case let .dict(target) = parent, target === dict { throw Failure.malformed("a dict inside itself") }
                dict.nested = true
                childDepth = dict.depth
            default:
                break
            }
            deepest = max(deepest, childDepth + 1)
        }
        guard deepest <= Self.maxDepth else { throw Failure.malformed("values nested deeper than \(Self.maxDepth) levels") }
        return deepest
    }

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw Failure.malformed("pickle stack underflow") }
        depths.removeLast()
        return value
    }

    private func topWithDepth() throws -> (value: PickleValue, depth: Int) {
        guard let value = stack.last, let depth = depths.last else { throw Failure.malformed("pickle stack underflow") }
        return (value, depth)
    }

    private mutating func popCount(_ count: Int) throws -> [Entry] {
        guard stack.count >= count else { throw Failure.malformed("pickle stack underflow") }
        defer {
            stack.removeLast(count)
            depths.removeLast(count)
        }
        return zip(stack.suffix(count), depths.suffix(count)).map { ($0, $1) }
    }

    private mutating func popMark() throws -> [Entry] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw Failure.malformed("missing MARK") }
        defer {
            stack.removeSubrange(mark...)
            depths.removeSubrange(mark...)
        }
        return zip(stack[mark...], depths[mark...]).map { ($0, $1) }
    }

    private func list(at index: Int) throws -> PickleList {
        guard index >= 0, case let .list(list) = stack[index] else { throw Failure.malformed("APPEND outside a list") }
        return list
    }

    private func dict(at index: Int) throws -> PickleDict {
        guard index >= 0, case let .dict(dict) = stack[index] else { throw Failure.malformed("SETITEM outside a dict") }
        return dict
    }
}
