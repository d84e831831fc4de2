import type { Command } from 'commander';

export function register(cmd: Command): void {
  cmd.description('scan, decrypt and rewrite Kubernetes values in etcd');
}
