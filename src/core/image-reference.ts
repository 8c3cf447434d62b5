/** Whether an image reference names its build (`...@sha256:<digest>`), not only a tag that may move. */
export function isPinnedByDigest(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}
