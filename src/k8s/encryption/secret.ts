/** Go's base64.StdEncoding.DecodeString: padded standard alphabet; CR and LF are ignored. */
const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeStdBase64(s: string): Buffer | undefined {
  const t = s.replace(/[\r\n]/g, '');
  if (!STD_B64.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}
