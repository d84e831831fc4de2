// Login failures in words: what went wrong and what to do, keeping Arca's code beside (ErrorBanner
// shows it). The server's messages are right but generic; at the login form we know the context.
import { ApiError } from '../../api/client.ts';

const WORDS: Record<string, string> = {
  ERR_LOGIN_FAILED: 'Wrong user name or password.',
  ERR_LOGIN_LOCKED: 'Too many failed sign-ins for this user: it is locked for a while. Try again later or ask an administrator.',
  ERR_TOKEN_INVALID: 'This token is not valid: it is mistyped, expired or revoked.',
  ERR_MFA_INVALID: 'The second factor was refused: the code is wrong, expired or already used (or the security key did not match). Try again with a new code; after 5 failures, start over.',
  ERR_MFA_NOT_ENROLLED: 'You have no authenticator app or security key set up for the second factor this login requires. Ask an administrator to enrol you.',
  ERR_OIDC_STATE_INVALID: 'This single sign-on answer is unknown, expired or was already used. Start the single sign-on again.',
  ERR_OIDC_LOGIN_FAILED: 'The identity provider’s answer was refused (its token did not validate). Start again, or ask an administrator to check the OIDC role.',
  ERR_OIDC_REDIRECT_URI_DISALLOWED: 'This OIDC role does not allow signing in from the web UI: an administrator must add this page’s callback URL to the role’s allowed_redirect_uris.',
  ERR_OIDC_UPSTREAM_UNAVAILABLE: 'The identity provider cannot be reached. Try again later.',
};

/**
 * The error to show for a failed login step (an ApiError keeps its code and status). `atMount`: the
 * call went to an auth method's login path without a token, where a refusal by policy can only mean
 * that no such method is mounted there (login paths are open).
 */
export function loginError(err: unknown, atMount = false): unknown {
  if (!(err instanceof ApiError) || err.unreachable || err.sealed) return err;
  if (atMount && (err.status === 404 || err.code === 'ERR_NOT_FOUND' || err.code === 'ERR_PERMISSION_DENIED')) {
    return new ApiError(err.status, err.code, 'No such auth method at this path: check the mount path.');
  }
  if (err.code === 'ERR_PERMISSION_DENIED') return new ApiError(err.status, err.code, 'This token may not look itself up (auth/token/lookup-self): it cannot be used to sign in here.');
  const words = WORDS[err.code];
  return words ? new ApiError(err.status, err.code, words) : err;
}
