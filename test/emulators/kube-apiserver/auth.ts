// Bearer-token authentication: a static token table (kube-apiserver's
// --token-auth-file CSV, or tokens added through the admin API). ServiceAccount
// users get the names and groups the real token authenticator gives them.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { unauthorized } from './status.ts';

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

export class TokenAuthenticator {
  private readonly tokens = new Map<string, UserInfo>();

  /** Registers `token` for `user`; system:authenticated is added as the apiserver does. */
  add(token: string, user: UserInfo): void {
    const groups = user.groups.includes('system:authenticated') ? user.groups : [...user.groups, 'system:authenticated'];
    this.tokens.set(token, { name: user.name, groups });
  }

  /** A fresh token for a ServiceAccount (the account object itself is not required, as with static tokens). */
  addServiceAccount(namespace: string, name: string, token = randomBytes(24).toString('base64url')): string {
    this.add(token, serviceAccountUser(namespace, name));
    return token;
  }

  /** Lines `token,user,uid[,"group1,group2"]`, as --token-auth-file. */
  loadFile(path: string): void {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const m = /^([^,#\s][^,]*),([^,]+),([^,]*)(?:,"?([^"]*)"?)?\s*$/.exec(line.trim());
      if (!m) continue;
      this.add(m[1]!, { name: m[2]!, groups: m[4] ? m[4].split(',').map((g) => g.trim()).filter(Boolean) : [] });
    }
  }

  /** No Authorization header is the anonymous user; an unknown token is a 401. */
  authenticate(header: string | undefined): UserInfo {
    if (!header) return ANONYMOUS;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const user = m ? this.tokens.get(m[1]!) : undefined;
    if (!user) throw unauthorized();
    return user;
  }
}
