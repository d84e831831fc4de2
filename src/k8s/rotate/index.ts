export { runRotation, plan, RotateStepError, type RotateDeps, type RotateOptions, type KeyInfo, type ScanCounts, type RewriteResult } from './machine.ts';
export { RotationState, readRotationState, writeRotationState, STEPS, type StepName } from './state.ts';
