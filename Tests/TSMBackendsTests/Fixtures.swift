/// `text` NUL-padded to `size` bytes: the initial value of the sample provider's fields.
func ascii(_ text: String, paddedTo size: Int) -> [UInt8] {
    Array(text.utf8) + [UInt8](repeating: 0, count: size - text.utf8.count)
}
