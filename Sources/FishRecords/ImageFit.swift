/// How an image is fitted to a model's square input.
public enum ImageFit: String, Codable, Sendable {
    /// Resize so the shorter side is the preprocessing's `resizeShorterSide`, then take the centred square.
    case centerCrop = "center-crop"
    /// Resize straight to the input size, ignoring the aspect ratio.
    case squash
    /// Resize so the longer side is the input size (aspect kept), centred on a square padded with
    /// the preprocessing's mean colour (which normalises to zero).
    case letterbox
}
