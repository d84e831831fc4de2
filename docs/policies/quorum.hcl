# Quorum example (see docs/governance.md): key administrators get the dangerous operations only
# through quorum approval by two members of the "key-approvers" identity group, never by themselves.
#
#   arca policy write key-admin-quorum docs/policies/quorum.hcl
#   (then add "key-admin-quorum" to the key administrators' identity group's policies)
#
# Every control group below needs 2 approvals from distinct entities in "key-approvers"; the
# requester's own entity never counts. Requests wait at most 24h, then expire. Root tokens are not
# subject to control groups: keep them sealed away (break-glass, docs/governance.md).

# Transit key rotation.
path "transit/keys/+/rotate" {
  capabilities = ["update"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" { identity { group_names = ["key-approvers"] approvals = 2 } }
  }
}

# Transit key configuration (min_decryption_version, deletion_allowed, exportable, ...).
path "transit/keys/+/config" {
  capabilities = ["update"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" { identity { group_names = ["key-approvers"] approvals = 2 } }
  }
}

# Creating and reading keys is routine; deleting one is not.
path "transit/keys/*" {
  capabilities = ["create", "update", "read", "list", "delete"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" {
      identity { group_names = ["key-approvers"] approvals = 2 }
      controlled_capabilities = ["delete"]
    }
  }
}

# Disabling an audit device (enabling one is not held back).
path "sys/audit/*" {
  capabilities = ["create", "update", "delete", "sudo"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" {
      identity { group_names = ["key-approvers"] approvals = 2 }
      controlled_capabilities = ["delete"]
    }
  }
}

# Sealing the server.
path "sys/seal" {
  capabilities = ["update", "sudo"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" { identity { group_names = ["key-approvers"] approvals = 2 } }
  }
}

# Identity writes: otherwise a key admin could add a sock-puppet entity to the approvers' group or
# grant an entity policies directly.
path "identity/*" {
  capabilities = ["create", "update", "delete", "read", "list"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" {
      identity { group_names = ["key-approvers"] approvals = 2 }
      controlled_capabilities = ["create", "update", "delete"]
    }
  }
}

# Policy writes (both API paths): reading and listing stay free.
path "sys/policies/acl/*" {
  capabilities = ["create", "update", "delete", "read", "list"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" {
      identity { group_names = ["key-approvers"] approvals = 2 }
      controlled_capabilities = ["create", "update", "delete"]
    }
  }
}

path "sys/policy/*" {
  capabilities = ["create", "update", "delete", "read", "list"]
  control_group = {
    ttl = "24h"
    factor "key-approvers" {
      identity { group_names = ["key-approvers"] approvals = 2 }
      controlled_capabilities = ["create", "update", "delete"]
    }
  }
}
