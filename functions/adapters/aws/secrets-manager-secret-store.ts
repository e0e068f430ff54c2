// Secret store on AWS Secrets Manager: one secret per server, named `${prefix}${serverId}`, holding the
// server's password. No message or log line here carries a secret value: errors name the server only.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ValidationError } from "#core/errors.ts";
import type { SecretStore } from "#core/ports.ts";

/**
 * Characters Secrets Manager allows in a name, minus `/` so an id cannot reach outside the prefix;
 * the same rule as the encrypted file store.
 */
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,127}$/;

/** Attempts of `put` while a force-deleted secret of the same name is still being removed. */
const PUT_ATTEMPTS = 6;

export interface SecretsManagerSecretStoreOptions {
  /** Default: a client from the environment's region and credentials. */
  client?: SecretsManagerClient;
  /** Prepended to the server id to name its secret, e.g. `mbm/servers/`. */
  prefix: string;
  /** Default: the account's `aws/secretsmanager` key. */
  kmsKeyId?: string;
}

/** A secret that is scheduled for deletion behaves as absent. */
function isMarkedDeleted(error: unknown): boolean {
  return error instanceof InvalidRequestException && /delet/i.test(error.message);
}

function failure(action: string, serverId: string, error: unknown): Error {
  const code = error instanceof Error ? error.name : "unknown error";
  return new Error(`secret store: ${action} of the secret of server ${serverId} failed (${code})`, {
    cause: error,
  });
}

export class SecretsManagerSecretStore implements SecretStore {
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;
  readonly #kmsKeyId: string | undefined;

  constructor({ client, prefix, kmsKeyId }: SecretsManagerSecretStoreOptions) {
    this.#client = client ?? new SecretsManagerClient({});
    this.#prefix = prefix;
    this.#kmsKeyId = kmsKeyId;
  }

  /** The name of a server's secret. */
  secretName(serverId: string): string {
    if (!SERVER_ID.test(serverId)) {
      throw new ValidationError(
        "server_id",
        `must match ${SERVER_ID.source}, got ${JSON.stringify(serverId)}`,
      );
    }
    return `${this.#prefix}${serverId}`;
  }

  async put(serverId: string, password: string): Promise<void> {
    const name = this.secretName(serverId);
    let lastError: unknown;
    for (let attempt = 0; attempt < PUT_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
      try {
        await this.#client.send(
          new CreateSecretCommand({ Name: name, SecretString: password, KmsKeyId: this.#kmsKeyId }),
        );
        return;
      } catch (error) {
        // AWS answers InvalidRequestException for a name scheduled for deletion; moto ResourceExists.
        if (!(error instanceof ResourceExistsException || error instanceof InvalidRequestException)) {
          throw failure("create", serverId, error);
        }
        lastError = error;
      }
      try {
        const described = await this.#client.send(new DescribeSecretCommand({ SecretId: name }));
        if (described.DeletedDate) await this.#client.send(new RestoreSecretCommand({ SecretId: name }));
        await this.#client.send(new PutSecretValueCommand({ SecretId: name, SecretString: password }));
        return;
      } catch (error) {
        // Deleted since CreateSecret failed, or a force deletion still in progress (AWS removes the
        // name asynchronously): create again after a pause.
        if (!(error instanceof ResourceNotFoundException || isMarkedDeleted(error))) {
          throw failure("update", serverId, error);
        }
        lastError = error;
      }
    }
    throw failure("put", serverId, lastError);
  }

  async get(serverId: string): Promise<string | undefined> {
    const name = this.secretName(serverId);
    try {
      const res = await this.#client.send(new GetSecretValueCommand({ SecretId: name }));
      return res.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException || isMarkedDeleted(error)) return undefined;
      throw failure("read", serverId, error);
    }
  }

  async delete(serverId: string): Promise<void> {
    const name = this.secretName(serverId);
    try {
      // Without recovery: the password of a server that was removed must not linger for the 7-30 day
      // recovery window, restorable and readable by anyone allowed RestoreSecret, and the name must be
      // free for `put` again at once.
      await this.#client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw failure("delete", serverId, error);
    }
  }
}
