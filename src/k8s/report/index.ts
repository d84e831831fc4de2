export {
  checkSummary,
  scanSummary,
  pluginSummary,
  nodeSegment,
  sendReport,
  validCluster,
  type CheckSummary,
  type ScanSummary,
  type PluginSummary,
  type ReportSource,
  type ReportTarget,
} from './posture.ts';
