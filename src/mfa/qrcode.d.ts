// The subset of `qrcode` (no bundled types) used for the enrollment PNG.
declare module 'qrcode' {
  export function toBuffer(text: string, opts?: { type?: 'png'; errorCorrectionLevel?: 'L' | 'M' | 'Q' | 'H'; margin?: number; width?: number }): Promise<Buffer>;
}
