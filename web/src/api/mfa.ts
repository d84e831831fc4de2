// Second factors, for login and for step-up: answering Vault's `mfa_requirement` through
// sys/mfa/validate with a TOTP code or a WebAuthn assertion (the browser's security-key API, through
// @simplewebauthn/browser). Contract of the server side: docs/governance.md.
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { api, type MfaRequirement } from './client.ts';

export type MfaMethod = MfaRequirement['mfa_constraints'][string]['any'][number];

/** One answer per constraint: the method chosen and its payload (a code, or the assertion JSON). */
export type MfaAnswers = Record<string, { methodId: string; payload: string }>;

/** Asks the security key for an assertion over the server's options; answers the JSON to send. */
export async function webauthnAssertion(m: MfaMethod): Promise<string> {
  // The options come from the server as PublicKeyCredentialRequestOptionsJSON.
  const res = await startAuthentication({ optionsJSON: m.webauthn_options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  return JSON.stringify(res);
}

/** Completes a held-back login (or a step-up): answers the `auth` block with the new token. */
export async function validateMfa(req: MfaRequirement, answers: MfaAnswers): Promise<Record<string, unknown> & { client_token?: string }> {
  const mfa_payload: Record<string, string[]> = {};
  for (const a of Object.values(answers)) mfa_payload[a.methodId] = [a.payload];
  const r = await api.write('sys/mfa/validate', { mfa_request_id: req.mfa_request_id, mfa_payload }, { token: null });
  return (r.auth ?? {}) as Record<string, unknown> & { client_token?: string };
}

/** Registers a security key for the signed-in entity on a WebAuthn MFA method. */
export async function registerSecurityKey(methodId: string, label: string): Promise<string> {
  const begin = await api.write<{ options: Parameters<typeof startRegistration>[0]['optionsJSON'] }>('identity/mfa/method/webauthn/register/begin', { method_id: methodId });
  const response = await startRegistration({ optionsJSON: begin.data!.options });
  const fin = await api.write<{ credential_id: string }>('identity/mfa/method/webauthn/register/finish', { method_id: methodId, response, name: label });
  return fin.data!.credential_id;
}
