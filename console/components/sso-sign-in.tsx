/**
 * Single sign-on buttons go here, under the password form of the sign-in page, once the control plane offers SSO
 * (OIDC, issue 17): render one button per configured provider from the API's answer. Nothing yet.
 */
export function SsoSignIn() {
  return null;
}
