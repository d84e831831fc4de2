/**
 * WebAuthn / FIDO2 security keys as an MFA method: the registration and assertion ceremonies, all
 * verification done by @simplewebauthn/server (attestation "none": we trust the key the user holds,
 * not a vendor list). A method pins the RP ID and the origins a browser may have run the ceremony on,
 * so an assertion made on another site (phishing) is refused even for the same RP ID.
 *
 * Registration challenges live in memory on the replica that answered `register/begin`, one per
 * (method, entity), for CHALLENGE_TTL_MS: a new begin replaces the previous one and `register/finish`
 * takes it before verifying (single use, also when the answer is refused). Assertion challenges live
 * in the gate's pending login (gate.ts).
 */
import {
  type AuthenticationResponseJSON, generateAuthenticationOptions, generateRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON, verifyAuthenticationResponse, verifyRegistrationResponse, type WebAuthnCredential,
} from '@simplewebauthn/server';
import { z } from 'zod';
import { ArcaError } from '../errors/index.ts';
import type { MfaStore, WebauthnMethod } from './store.ts';

export const CHALLENGE_TTL_MS = 5 * 60_000;
/** The browser's own ceremony timeout: shorter than the challenge's life, so a slow user sees the browser's error first. */
const CEREMONY_TIMEOUT_MS = 120_000;
/** Bound on a `sys/mfa/validate` payload element carrying an assertion (JSON of AuthenticationResponseJSON). */
export const MAX_ASSERTION_CHARS = 16 * 1024;
const MAX_CHALLENGES = 10_000;

const B64URL = z.string().min(1).max(8192).regex(/^[A-Za-z0-9_-]+={0,2}$/);
const Base = {
  id: B64URL.max(1366),
  rawId: B64URL.max(1366),
  type: z.literal('public-key'),
  clientExtensionResults: z.looseObject({}).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};
const RegistrationResponse = z.looseObject({
  ...Base,
  response: z.looseObject({ clientDataJSON: B64URL, attestationObject: B64URL, transports: z.array(z.string().max(32)).max(8).optional() }),
});
const AssertionResponse = z.looseObject({
  ...Base,
  response: z.looseObject({ clientDataJSON: B64URL, authenticatorData: B64URL, signature: B64URL, userHandle: B64URL.optional() }),
});

const registrationFailed = () =>
  new ArcaError('ERR_MFA_REGISTRATION_FAILED', 'the security key registration was not accepted (challenge expired or already used, origin, RP ID or signature): start again with register/begin');

export interface WebauthnDeps {
  store: MfaStore;
  now: () => number;
  /** Why a ceremony was refused (debug logs only: clients get one fixed message). */
  debug?: (reason: string) => void;
}

export class Webauthn {
  readonly #d: WebauthnDeps;
  readonly #registrations = new Map<string, { challenge: string; expiresAt: number }>();

  constructor(d: WebauthnDeps) {
    this.#d = d;
  }

  #refused(stage: string, err?: unknown): void {
    this.#d.debug?.(`${stage}: ${err instanceof Error ? err.message : String(err ?? 'not verified')}`);
  }

  /** Creation options for the entity's next security key; existing keys are excluded. */
  async beginRegistration(m: WebauthnMethod, entity: { id: string; name: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.#d.store.webauthnCredentials(m.id, entity.id);
    const options = await generateRegistrationOptions({
      rpName: m.rp_name, rpID: m.rp_id,
      // The user handle is the entity id: stable per entity, no personal data.
      userID: new TextEncoder().encode(entity.id), userName: entity.name || entity.id, userDisplayName: entity.name,
      timeout: CEREMONY_TIMEOUT_MS, attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
      // A second factor, not a passkey login: no resident credential needed.
      authenticatorSelection: { residentKey: 'discouraged', userVerification: m.user_verification },
    });
    const now = this.#d.now();
    for (const [k, v] of this.#registrations) if (v.expiresAt <= now) this.#registrations.delete(k);
    if (this.#registrations.size >= MAX_CHALLENGES) this.#registrations.delete(this.#registrations.keys().next().value!);
    this.#registrations.set(`${m.id}/${entity.id}`, { challenge: options.challenge, expiresAt: now + CHALLENGE_TTL_MS });
    return options;
  }

  /** Verifies the browser's answer to `beginRegistration` and stores the credential; answers its id. */
  async finishRegistration(m: WebauthnMethod, entityId: string, response: unknown, label: string): Promise<string> {
    const k = `${m.id}/${entityId}`;
    const c = this.#registrations.get(k);
    this.#registrations.delete(k);
    if (!c || c.expiresAt <= this.#d.now()) throw registrationFailed();
    const parsed = RegistrationResponse.safeParse(response);
    if (!parsed.success) throw registrationFailed();
    let cred: WebAuthnCredential;
    try {
      const v = await verifyRegistrationResponse({
        response: parsed.data as RegistrationResponseJSON, expectedChallenge: c.challenge, expectedOrigin: m.origins, expectedRPID: m.rp_id,
        requireUserVerification: m.user_verification === 'required',
      });
      if (!v.verified) throw new Error('not verified');
      cred = v.registrationInfo.credential;
    } catch (err) {
      this.#refused('registration', err);
      throw registrationFailed();
    }
    await this.#d.store.addWebauthnCredential(m.id, entityId, {
      id: cred.id, public_key: Buffer.from(cred.publicKey).toString('base64url'), counter: cred.counter,
      transports: parsed.data.response.transports ?? cred.transports ?? [], label, created: new Date(this.#d.now()).toISOString(),
    });
    return cred.id;
  }

  /** Request options for a login or step-up: only the entity's own credentials are allowed. */
  async requestOptions(m: WebauthnMethod, entityId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const creds = await this.#d.store.webauthnCredentials(m.id, entityId);
    return generateAuthenticationOptions({
      rpID: m.rp_id, timeout: CEREMONY_TIMEOUT_MS, userVerification: m.user_verification,
      allowCredentials: creds.map((c) => ({ id: c.id, transports: c.transports })),
    });
  }

  /**
   * True when `payload` (the JSON of an AuthenticationResponseJSON) is an assertion by one of the
   * entity's credentials over `challenge`, from an allowed origin and the method's RP ID, with user
   * verification when the method requires it, and a signature counter that moved forward (stored).
   */
  async verifyAssertion(m: WebauthnMethod, entityId: string, challenge: string, payload: string): Promise<boolean> {
    if (payload.length > MAX_ASSERTION_CHARS) return false;
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      this.#refused('assertion', 'payload is not JSON');
      return false;
    }
    const parsed = AssertionResponse.safeParse(json);
    if (!parsed.success) {
      this.#refused('assertion', 'payload is not an AuthenticationResponseJSON');
      return false;
    }
    const cred = (await this.#d.store.webauthnCredentials(m.id, entityId)).find((c) => c.id === parsed.data.id);
    if (!cred) {
      this.#refused('assertion', 'credential not registered for this entity and method');
      return false;
    }
    try {
      const v = await verifyAuthenticationResponse({
        response: parsed.data as AuthenticationResponseJSON, expectedChallenge: challenge, expectedOrigin: m.origins, expectedRPID: m.rp_id,
        credential: { id: cred.id, publicKey: new Uint8Array(Buffer.from(cred.public_key, 'base64url')), counter: cred.counter, transports: cred.transports },
        requireUserVerification: m.user_verification === 'required',
      });
      if (!v.verified) throw new Error('signature not verified');
      if (await this.#d.store.advanceWebauthnCounter(m.id, entityId, cred.id, v.authenticationInfo.newCounter)) return true;
      this.#refused('assertion', 'signature counter did not move forward');
      return false;
    } catch (err) {
      this.#refused('assertion', err);
      return false;
    }
  }
}
