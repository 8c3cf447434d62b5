/**
 * The hash slot of a key, as Redis Cluster computes it: CRC16 (XMODEM: polynomial 0x1021, initial
 * value 0) of the key's hash tag (the text between the first `{` and the next `}`, when not empty)
 * or of the whole key, modulo 16,384. The cluster checks compare it with `CLUSTER KEYSLOT`.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, 'utf8')) % 16384;
}

function crc16(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8; // eslint-disable-line no-bitwise
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff; // eslint-disable-line no-bitwise
    }
  }
  return crc;
}
