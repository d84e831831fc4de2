// Said when the token may not read sys/mounts and the page shows the server's default mounts.
export function GuessedMounts() {
  return (
    <p className="banner warn" role="status">
      Your token may not read <code>sys/mounts</code>, so only the default mounts are shown (<code>secret/</code>, <code>transit/</code>). Open another mount by its
      address: /ui/secrets/&lt;mount&gt;/ or /ui/keys/&lt;mount&gt;/&lt;key&gt;.
    </p>
  );
}
