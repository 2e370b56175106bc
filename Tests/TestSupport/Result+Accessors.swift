/// The failure or the success of a result, for `#expect(x.error == .EINVAL)`.
extension Result {
    public var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    public var value: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
