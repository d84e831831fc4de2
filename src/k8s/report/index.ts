export { checkSummary, scanSummary, sendReport, validCluster, type CheckSummary, type ScanSummary, type ReportSource, type ReportTarget } from './posture.ts';
