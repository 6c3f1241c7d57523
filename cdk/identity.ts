import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { roles } from '../lib/domain/roles';
import { acknowledge, pascalCase } from './common';

/** An identity provider outside the stack whose JWTs the API trusts instead of its own user pool. */
export interface ExternalIdentity {
  /** Issuer (`iss`); an `https://` URL. */
  readonly issuer: string;
  /** Audience (`aud`, or `client_id` of an access token). */
  readonly audience: string;
}

export interface IdentityProps {
  /** Trust this provider's JWTs; without it a Cognito user pool is created and trusted. */
  readonly external?: ExternalIdentity;
}

/**
 * Who signs in: the JWT issuer and audience the API's authorizer trusts. Either an external
 * provider's, or a user pool of the stack's own with one group per role, whose users an
 * operator creates (nobody signs up alone), and an app client for the web app and the CLI.
 */
export class Identity extends Construct {
  readonly issuer: string;
  readonly audience: string;
  readonly userPool: cognito.UserPool | undefined;
  readonly userPoolClient: cognito.UserPoolClient | undefined;
  /** The origin the web app signs in at (Cognito's API), when the pool is the stack's own. */
  readonly signInOrigin: string | undefined;

  constructor(scope: Construct, id: string, props: IdentityProps = {}) {
    super(scope, id);
    if (props.external) {
      this.issuer = props.external.issuer;
      this.audience = props.external.audience;
      this.userPool = undefined;
      this.userPoolClient = undefined;
      this.signInOrigin = undefined;
      return;
    }
    const pool = new cognito.UserPool(this, 'UserPool', {
      // Users are created by an operator and put into role groups; nobody signs up alone.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // The users go with the stack; the table, which holds the data, stays.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const role of roles) {
      new cognito.UserPoolGroup(this, `Group${pascalCase(role)}`, {
        userPool: pool,
        groupName: role,
        description: `Role '${role}' (lib/domain/roles.ts)`,
      });
    }
    const client = pool.addClient('WebClient', {
      // A browser app and the CLI: no secret to keep, password sign-in (SRP or direct).
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });
    acknowledge(
      pool,
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is offered (TOTP) but not forced, so an operator can create a user and sign in from a script.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan (threat protection) costs per user; users exist only when an operator creates them.',
      },
    );
    this.issuer = pool.userPoolProviderUrl;
    this.audience = client.userPoolClientId;
    this.userPool = pool;
    this.userPoolClient = client;
    this.signInOrigin = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com`;
  }
}
