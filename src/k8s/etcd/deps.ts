/** What etcd tools use from other modules (one place, through their public index). */
export { isArcaError, ArcaError } from '../../errors/index.ts';
export {
  type EncryptionTransformers,
  type FromStorageResult,
  isEncrypted,
  buildTransformers,
  parseEncryptionConfig,
  summarizeObject,
  parseGroupResource,
} from '../encryption/index.ts';
