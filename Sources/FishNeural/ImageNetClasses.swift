/// The 1000 ImageNet-1k (ILSVRC2012) class names, in class-index order.
///
/// Source: the ILSVRC2012 synset list `synset_words.txt` as distributed with BVLC Caffe
/// (`data/ilsvrc12/get_ilsvrc_aux.sh`), one `wnid name[, synonym...]` per line, sorted by WordNet id,
/// which is the class order of ImageNet-trained checkpoints. Copy read from the public GitHub
/// repository Jack-An/TorchDemo, file `synset_words.txt` (commit cbdf4a5d2da2f46910e68b341c75e78e914e8e68).
/// The list is the package resource `Resources/imagenet-classes.txt`, embedded in the binary; the
/// reference tests check that it reproduces the top-5 labels of an independent implementation.
public enum ImageNetClasses {
    /// The WordNet id and human-readable name of each class.
    public static let synsets: [(wordNetID: String, name: String)] = String(
        decoding: PackageResources.imagenet_classes_txt, as: UTF8.self
    ).split(separator: "\n").map { line in
        let space = line.firstIndex(of: " ") ?? line.endIndex
        return (String(line[..<space]), String(line[space...].dropFirst()))
    }

    /// The class names, index = class id.
    public static var names: [String] { synsets.map(\.name) }
}
