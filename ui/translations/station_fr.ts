<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR" sourcelanguage="en">
<context>
    <name>AuditView</name>
    <message>
        <source>Audit trail</source>
        <translation>Journal d&apos;audit</translation>
    </message>
    <message>
        <source>target or detail contains …</source>
        <translation>cible ou détail contient …</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Afficher</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Utilisateur</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Du</translation>
    </message>
    <message>
        <source>to</source>
        <translation>au</translation>
    </message>
</context>
<context>
    <name>Blocker</name>
    <message>
        <source>Log in to test packs.</source>
        <translation>Connectez-vous pour tester les packs.</translation>
    </message>
    <message>
        <source>A test is running.</source>
        <translation>Un test est en cours.</translation>
    </message>
    <message>
        <source>Scan the pack&apos;s serial number.</source>
        <translation>Scannez le numéro de série du pack.</translation>
    </message>
    <message>
        <source>This serial number has the wrong format. Scan again.</source>
        <translation>Ce numéro de série n&apos;a pas le bon format. Scannez à nouveau.</translation>
    </message>
    <message>
        <source>Choose the variant.</source>
        <translation>Choisissez la variante.</translation>
    </message>
    <message>
        <source>Close the door / release the e-stop.</source>
        <translation>Fermez la porte / déverrouillez l&apos;arrêt d&apos;urgence.</translation>
    </message>
    <message>
        <source>An instrument is missing. Call an engineer.</source>
        <translation>Un instrument manque. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>An instrument&apos;s calibration has expired. Call an engineer.</source>
        <translation>L&apos;étalonnage d&apos;un instrument a expiré. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>The test files are not released. Call an engineer.</source>
        <translation>Les fichiers de test ne sont pas validés. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>The production mode was changed outside the station. Call an engineer.</source>
        <translation>Le mode production a été modifié hors du poste. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>The last test could not confirm the sources off. Do not touch the pack; call an engineer.</source>
        <translation>Le dernier test n&apos;a pas pu confirmer les sources coupées. Ne touchez pas le pack ; appelez un ingénieur.</translation>
    </message>
    <message>
        <source>The results disk is full. Call an engineer.</source>
        <translation>Le disque des résultats est plein. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>This pack cannot be retested now. Call a supervisor.</source>
        <translation>Ce pack ne peut pas être retesté maintenant. Appelez un responsable.</translation>
    </message>
    <message>
        <source>Today&apos;s master packs are not verified yet.</source>
        <translation>Les packs étalons du jour ne sont pas encore vérifiés.</translation>
    </message>
    <message>
        <source>The MES refuses this pack. Call an engineer.</source>
        <translation>Le MES refuse ce pack. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>A step asks more than an instrument can give. Call an engineer.</source>
        <translation>Une étape demande plus qu&apos;un instrument ne peut fournir. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>The test cannot start. The reason is in the details.</source>
        <translation>Le test ne peut pas démarrer. La raison est dans les détails.</translation>
    </message>
</context>
<context>
    <name>Column</name>
    <message>
        <source>When</source>
        <translation>Quand</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Utilisateur</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Cible</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>Détail</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Fichier</translation>
    </message>
    <message>
        <source>Name / version</source>
        <translation>Nom / version</translation>
    </message>
    <message>
        <source>sha256</source>
        <translation>sha256</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>État</translation>
    </message>
    <message>
        <source>By</source>
        <translation>Par</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>Révoqué</translation>
    </message>
    <message>
        <source>Blocks the start</source>
        <translation>Bloque le démarrage</translation>
    </message>
    <message>
        <source>Override</source>
        <translation>Dérogation</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rôle</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>Créé</translation>
    </message>
    <message>
        <source>Login</source>
        <translation>Connexion</translation>
    </message>
    <message>
        <source>Fault</source>
        <translation>Défaut</translation>
    </message>
    <message>
        <source>Magnitude</source>
        <translation>Amplitude</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Par défaut</translation>
    </message>
    <message>
        <source>What it does</source>
        <translation>Effet</translation>
    </message>
    <message>
        <source>Instrument</source>
        <translation>Instrument</translation>
    </message>
    <message>
        <source>Calibration</source>
        <translation>Étalonnage</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>Début</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>N° de série</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>Variante</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>Verdict</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>Sequence</source>
        <translation>Séquence</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>Groupe</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Étape</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Résultat</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Temps</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Erreur</translation>
    </message>
    <message>
        <source>Measurement</source>
        <translation>Mesure</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Valeur</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>Limites</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Taille</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Chemin</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>Niveau</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
</context>
<context>
    <name>EngineeringPage</name>
    <message>
        <source>{when} by {user}</source>
        <translation>{when} par {user}</translation>
    </message>
    <message>
        <source>disabled</source>
        <translation>désactivé</translation>
    </message>
    <message>
        <source>enabled</source>
        <translation>activé</translation>
    </message>
    <message>
        <source>reason / note for the audit trail (required)</source>
        <translation>raison / note pour le journal d&apos;audit (obligatoire)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Raison</translation>
    </message>
    <message>
        <source>Production mode</source>
        <translation>Mode production</translation>
    </message>
    <message>
        <source>Release selected file</source>
        <translation>Valider le fichier choisi</translation>
    </message>
    <message>
        <source>Revoke its release</source>
        <translation>Révoquer sa validation</translation>
    </message>
    <message>
        <source>Sequence and limit files (released = locked by sha256)</source>
        <translation>Fichiers de séquence et de limites (validé = verrouillé par sha256)</translation>
    </message>
    <message>
        <source>Release history</source>
        <translation>Historique des validations</translation>
    </message>
    <message>
        <source>Override selected (one shift)</source>
        <translation>Déroger au choix (une équipe)</translation>
    </message>
    <message>
        <source>Overrides (expired calibration, unconfirmed safe state)</source>
        <translation>Dérogations (étalonnage expiré, sécurité non confirmée)</translation>
    </message>
    <message>
        <source>user name</source>
        <translation>nom d&apos;utilisateur</translation>
    </message>
    <message>
        <source>password (8+ characters)</source>
        <translation>mot de passe (8 caractères ou plus)</translation>
    </message>
    <message>
        <source>Add user</source>
        <translation>Ajouter l&apos;utilisateur</translation>
    </message>
    <message>
        <source>Disable selected</source>
        <translation>Désactiver le choix</translation>
    </message>
    <message>
        <source>Enable selected</source>
        <translation>Activer le choix</translation>
    </message>
    <message>
        <source>Set selected&apos;s password</source>
        <translation>Définir son mot de passe</translation>
    </message>
    <message>
        <source>Users (admins) — the reason above is required</source>
        <translation>Utilisateurs (administrateurs) — la raison ci-dessus est obligatoire</translation>
    </message>
    <message>
        <source>PRODUCTION: only released files run</source>
        <translation>PRODUCTION : seuls les fichiers validés s&apos;exécutent</translation>
    </message>
    <message>
        <source>ENGINEERING: unreleased files may run — not for production</source>
        <translation>INGÉNIERIE : des fichiers non validés peuvent s&apos;exécuter — pas pour la production</translation>
    </message>
    <message>
        <source>Switch to engineering mode</source>
        <translation>Passer en mode ingénierie</translation>
    </message>
    <message>
        <source>Switch to production mode</source>
        <translation>Passer en mode production</translation>
    </message>
    <message>
        <source>CHANGED ON DISK since loading</source>
        <translation>MODIFIÉ SUR LE DISQUE depuis le chargement</translation>
    </message>
    <message>
        <source>NOT released</source>
        <translation>NON validé</translation>
    </message>
    <message>
        <source>released by {user} {when}</source>
        <translation>validé par {user} {when}</translation>
    </message>
    <message>
        <source>✔ {what}: done (recorded in the audit trail)</source>
        <translation>✔ {what} : fait (enregistré dans le journal d&apos;audit)</translation>
    </message>
    <message>
        <source>select a file to release</source>
        <translation>choisissez un fichier à valider</translation>
    </message>
    <message>
        <source>release</source>
        <translation>validation</translation>
    </message>
    <message>
        <source>select a released file</source>
        <translation>choisissez un fichier validé</translation>
    </message>
    <message>
        <source>revoke</source>
        <translation>révocation</translation>
    </message>
    <message>
        <source>production mode</source>
        <translation>mode production</translation>
    </message>
    <message>
        <source>select what to override</source>
        <translation>choisissez à quoi déroger</translation>
    </message>
    <message>
        <source>override</source>
        <translation>dérogation</translation>
    </message>
    <message>
        <source>add user</source>
        <translation>ajout d&apos;utilisateur</translation>
    </message>
    <message>
        <source>select a user</source>
        <translation>choisissez un utilisateur</translation>
    </message>
    <message>
        <source>disable user</source>
        <translation>désactivation d&apos;utilisateur</translation>
    </message>
    <message>
        <source>enable user</source>
        <translation>activation d&apos;utilisateur</translation>
    </message>
    <message>
        <source>select a user, type the new password, give a reason</source>
        <translation>choisissez un utilisateur, tapez le nouveau mot de passe, donnez une raison</translation>
    </message>
    <message>
        <source>set password</source>
        <translation>définition du mot de passe</translation>
    </message>
</context>
<context>
    <name>FaultPanel</name>
    <message>
        <source>Virtual-bench faults (training and demos; on until the UI closes)</source>
        <translation>Défauts du banc virtuel (formation et démos ; actifs jusqu&apos;à la fermeture)</translation>
    </message>
    <message>
        <source>Inject selected fault</source>
        <translation>Injecter le défaut choisi</translation>
    </message>
    <message>
        <source>Nest</source>
        <translation>Emplacement</translation>
    </message>
    <message>
        <source>On: {faults}</source>
        <translation>Actifs : {faults}</translation>
    </message>
    <message>
        <source>magnitude (empty = the default)</source>
        <translation>amplitude (vide = par défaut)</translation>
    </message>
    <message>
        <source>{magnitude} (default {default})</source>
        <translation>{magnitude} (par défaut {default})</translation>
    </message>
    <message>
        <source>no magnitude</source>
        <translation>sans amplitude</translation>
    </message>
    <message>
        <source>select a fault first</source>
        <translation>choisissez d&apos;abord un défaut</translation>
    </message>
    <message>
        <source>✔ {fault} is on; the next pack runs with it</source>
        <translation>✔ {fault} est actif ; le prochain pack sera testé avec</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>✔ OK</source>
        <translation>✔ OK</translation>
    </message>
    <message>
        <source>! due soon</source>
        <translation>! bientôt dû</translation>
    </message>
    <message>
        <source>✖ EXPIRED</source>
        <translation>✖ EXPIRÉ</translation>
    </message>
    <message>
        <source>! override</source>
        <translation>! dérogation</translation>
    </message>
    <message>
        <source>✖ MISSING</source>
        <translation>✖ ABSENT</translation>
    </message>
    <message>
        <source>safe for HV</source>
        <translation>sûr pour la HT</translation>
    </message>
    <message>
        <source>NOT safe for HV</source>
        <translation>NON sûr pour la HT</translation>
    </message>
    <message>
        <source>cannot read the interlocks</source>
        <translation>lecture des verrouillages impossible</translation>
    </message>
    <message>
        <source>{n} days left</source>
        <translation>encore {n} jours</translation>
    </message>
    <message>
        <source>{n} days OVERDUE</source>
        <translation>{n} jours de RETARD</translation>
    </message>
    <message>
        <source>due {date}</source>
        <translation>échéance {date}</translation>
    </message>
    <message>
        <source>Station health</source>
        <translation>État du poste</translation>
    </message>
    <message>
        <source>Interlocks: {state}</source>
        <translation>Verrouillages : {state}</translation>
    </message>
    <message>
        <source>Mode: PRODUCTION (released files only)</source>
        <translation>Mode : PRODUCTION (fichiers validés seulement)</translation>
    </message>
    <message>
        <source>Mode: ENGINEERING</source>
        <translation>Mode : INGÉNIERIE</translation>
    </message>
    <message>
        <source>Sequence: {sequence}</source>
        <translation>Séquence : {sequence}</translation>
    </message>
    <message>
        <source>Masters verified today</source>
        <translation>Étalons vérifiés aujourd&apos;hui</translation>
    </message>
    <message>
        <source>Masters NOT verified today</source>
        <translation>Étalons NON vérifiés aujourd&apos;hui</translation>
    </message>
</context>
<context>
    <name>LoginPage</name>
    <message>
        <source>Create the first administrator</source>
        <translation>Créer le premier administrateur</translation>
    </message>
    <message>
        <source>This station has no users yet. The first account is an administrator, who then adds operators and engineers.</source>
        <translation>Ce poste n&apos;a pas encore d&apos;utilisateurs. Le premier compte est un administrateur, qui ajoute ensuite les opérateurs et les ingénieurs.</translation>
    </message>
    <message>
        <source>Log in — {station}</source>
        <translation>Connexion — {station}</translation>
    </message>
    <message>
        <source>Operators test packs; engineers and admins also browse results and release files.</source>
        <translation>Les opérateurs testent les packs ; ingénieurs et administrateurs consultent aussi les résultats et valident les fichiers.</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Utilisateur</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Mot de passe</translation>
    </message>
    <message>
        <source>Repeat password</source>
        <translation>Répéter le mot de passe</translation>
    </message>
    <message>
        <source>CREATE AND LOG IN</source>
        <translation>CRÉER ET SE CONNECTER</translation>
    </message>
    <message>
        <source>LOG IN</source>
        <translation>SE CONNECTER</translation>
    </message>
    <message>
        <source>logged out after a period without input</source>
        <translation>déconnecté après une période d&apos;inactivité</translation>
    </message>
    <message>
        <source>the two passwords differ</source>
        <translation>les deux mots de passe diffèrent</translation>
    </message>
    <message>
        <source>wrong user name or password (or the account is disabled)</source>
        <translation>nom d&apos;utilisateur ou mot de passe incorrect (ou compte désactivé)</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>EOL station {station} — {sequence}</source>
        <translation>Poste EOL {station} — {sequence}</translation>
    </message>
    <message>
        <source>Station {station}</source>
        <translation>Poste {station}</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>Déconnexion</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>Test</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>Résultats</translation>
    </message>
    <message>
        <source>Engineering</source>
        <translation>Ingénierie</translation>
    </message>
    <message>
        <source>Audit trail</source>
        <translation>Journal d&apos;audit</translation>
    </message>
    <message>
        <source>not logged in</source>
        <translation>non connecté</translation>
    </message>
    <message>
        <source>In kiosk mode only an engineer may close the station window.</source>
        <translation>En mode kiosque, seul un ingénieur peut fermer la fenêtre du poste.</translation>
    </message>
</context>
<context>
    <name>Measurement</name>
    <message>
        <source>not measured</source>
        <translation>non mesuré</translation>
    </message>
</context>
<context>
    <name>NestsScreen</name>
    <message>
        <source>Nest {label}</source>
        <translation>Emplacement {label}</translation>
    </message>
</context>
<context>
    <name>OperatorScreen</name>
    <message>
        <source>scan the pack&apos;s serial number</source>
        <translation>scannez le numéro de série du pack</translation>
    </message>
    <message>
        <source>— choose variant —</source>
        <translation>— choisir la variante —</translation>
    </message>
    <message>
        <source>START</source>
        <translation>DÉMARRER</translation>
    </message>
    <message>
        <source>ABORT</source>
        <translation>ARRÊTER</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Détails</translation>
    </message>
    <message>
        <source>Abort this test? Cleanup runs and every source is switched off.</source>
        <translation>Arrêter ce test ? La mise en sécurité s&apos;exécute et toutes les sources sont coupées.</translation>
    </message>
    <message>
        <source>YES, ABORT</source>
        <translation>OUI, ARRÊTER</translation>
    </message>
    <message>
        <source>NO, CONTINUE</source>
        <translation>NON, CONTINUER</translation>
    </message>
    <message>
        <source>TEST AGAIN</source>
        <translation>RETESTER</translation>
    </message>
    <message>
        <source>CANCEL</source>
        <translation>ANNULER</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>N° de série</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Étapes</translation>
    </message>
    <message>
        <source>Measurements</source>
        <translation>Mesures</translation>
    </message>
    <message>
        <source>Press START to test {serial}</source>
        <translation>Appuyez sur DÉMARRER pour tester {serial}</translation>
    </message>
    <message>
        <source>{serial} was tested before. Test it again?</source>
        <translation>{serial} a déjà été testé. Le tester à nouveau ?</translation>
    </message>
    <message>
        <source>Scanned {serial} — it replaces {previous}. </source>
        <translation>{serial} scanné — il remplace {previous}. </translation>
    </message>
    <message>
        <source>starting {serial} …</source>
        <translation>démarrage de {serial} …</translation>
    </message>
    <message>
        <source>ABORTING …</source>
        <translation>ARRÊT EN COURS …</translation>
    </message>
    <message>
        <source>cleanup runs; every source is being switched off</source>
        <translation>mise en sécurité en cours ; toutes les sources sont coupées</translation>
    </message>
    <message>
        <source>RUNNING step {k} of {n}</source>
        <translation>EN COURS étape {k} sur {n}</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>reste {time}</translation>
    </message>
    <message>
        <source>{error} — call an engineer</source>
        <translation>{error} — appelez un ingénieur</translation>
    </message>
</context>
<context>
    <name>Outcome</name>
    <message>
        <source>{word} (marginal)</source>
        <translation>{word} (limite)</translation>
    </message>
    <message>
        <source>✔ PASS</source>
        <translation>✔ BON</translation>
    </message>
    <message>
        <source>✖ FAIL</source>
        <translation>✖ MAUVAIS</translation>
    </message>
    <message>
        <source>⚠ ERROR</source>
        <translation>⚠ ERREUR</translation>
    </message>
    <message>
        <source>■ ABORTED</source>
        <translation>■ ARRÊTÉ</translation>
    </message>
    <message>
        <source>■ STOPPED</source>
        <translation>■ STOPPÉ</translation>
    </message>
    <message>
        <source>– skipped</source>
        <translation>– sautée</translation>
    </message>
    <message>
        <source>recorded</source>
        <translation>enregistré</translation>
    </message>
    <message>
        <source>▶ running</source>
        <translation>▶ en cours</translation>
    </message>
    <message>
        <source>– not run</source>
        <translation>– non exécutée</translation>
    </message>
    <message>
        <source>■ INTERRUPTED</source>
        <translation>■ INTERROMPU</translation>
    </message>
</context>
<context>
    <name>PromptPanel</name>
    <message>
        <source>OPERATOR ACTION</source>
        <translation>ACTION OPÉRATEUR</translation>
    </message>
    <message>
        <source>Type or scan the answer, then press OK.</source>
        <translation>Tapez ou scannez la réponse, puis appuyez sur OK.</translation>
    </message>
    <message>
        <source>Scan the barcode (or type it), then press OK.</source>
        <translation>Scannez le code-barres (ou tapez-le), puis appuyez sur OK.</translation>
    </message>
    <message>
        <source>(picture {image} not found)</source>
        <translation>(image {image} introuvable)</translation>
    </message>
    <message>
        <source>YES</source>
        <translation>OUI</translation>
    </message>
    <message>
        <source>NO</source>
        <translation>NON</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>OK, DONE</source>
        <translation>OK, FAIT</translation>
    </message>
    <message>
        <source>Enter a number from {low} to {high}.</source>
        <translation>Entrez un nombre de {low} à {high}.</translation>
    </message>
    <message>
        <source>Enter a number of at least {low}.</source>
        <translation>Entrez un nombre d&apos;au moins {low}.</translation>
    </message>
    <message>
        <source>Enter a number of at most {high}.</source>
        <translation>Entrez un nombre d&apos;au plus {high}.</translation>
    </message>
    <message>
        <source>Enter a number.</source>
        <translation>Entrez un nombre.</translation>
    </message>
    <message>
        <source>{text} is not a number.</source>
        <translation>{text} n&apos;est pas un nombre.</translation>
    </message>
    <message>
        <source>{text} is out of range.</source>
        <translation>{text} est hors plage.</translation>
    </message>
    <message>
        <source>Enter an answer.</source>
        <translation>Entrez une réponse.</translation>
    </message>
    <message>
        <source>{text} does not have the expected format ({pattern}).</source>
        <translation>{text} n&apos;a pas le format attendu ({pattern}).</translation>
    </message>
</context>
<context>
    <name>Record</name>
    <message>
        <source> (previous run {run})</source>
        <translation> (essai précédent {run})</translation>
    </message>
    <message>
        <source> — rework: {reason}</source>
        <translation> — reprise : {reason}</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>Verdict</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>N° de série</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>Variante</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>Attempt</source>
        <translation>Essai</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>Poste</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>Début</translation>
    </message>
    <message>
        <source>Ended</source>
        <translation>Fin</translation>
    </message>
    <message>
        <source>Sequence</source>
        <translation>Séquence</translation>
    </message>
    <message>
        <source>Sequence sha256</source>
        <translation>sha256 de la séquence</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>Limites</translation>
    </message>
    <message>
        <source>Config sha256</source>
        <translation>sha256 de la config</translation>
    </message>
    <message>
        <source>Software</source>
        <translation>Logiciel</translation>
    </message>
    <message>
        <source>Safe state</source>
        <translation>Mise en sécurité</translation>
    </message>
    <message>
        <source>Run id</source>
        <translation>Id de l&apos;essai</translation>
    </message>
    <message>
        <source>confirmed off</source>
        <translation>coupure confirmée</translation>
    </message>
    <message>
        <source>NOT CONFIRMED</source>
        <translation>NON CONFIRMÉ</translation>
    </message>
    <message>
        <source>(inline)</source>
        <translation>(dans la séquence)</translation>
    </message>
    <message>
        <source>cal due {date}</source>
        <translation>étalonnage dû {date}</translation>
    </message>
    <message>
        <source>Instruments</source>
        <translation>Instruments</translation>
    </message>
</context>
<context>
    <name>ResultsBrowser</name>
    <message>
        <source>serial contains …</source>
        <translation>le n° de série contient …</translation>
    </message>
    <message>
        <source>dates</source>
        <translation>dates</translation>
    </message>
    <message>
        <source>to</source>
        <translation>au</translation>
    </message>
    <message>
        <source>any verdict</source>
        <translation>tout verdict</translation>
    </message>
    <message>
        <source>any variant</source>
        <translation>toute variante</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Rechercher</translation>
    </message>
    <message>
        <source>Certificate…</source>
        <translation>Certificat…</translation>
    </message>
    <message>
        <source>Save the selected run&apos;s birth certificate (PDF or HTML)</source>
        <translation>Enregistrer le certificat de naissance de l&apos;essai choisi (PDF ou HTML)</translation>
    </message>
    <message>
        <source>Measurement</source>
        <translation>Mesure</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>Fiche</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Étapes</translation>
    </message>
    <message>
        <source>Measurements</source>
        <translation>Mesures</translation>
    </message>
    <message>
        <source>Time series</source>
        <translation>Séries temporelles</translation>
    </message>
    <message>
        <source>Attachments</source>
        <translation>Pièces jointes</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Journal</translation>
    </message>
    <message>
        <source>Statistics</source>
        <translation>Statistiques</translation>
    </message>
    <message>
        <source>{runs} runs · {packs} packs · passed {passed} · first-pass yield {fpy}</source>
        <translation>{runs} essais · {packs} packs · bons {passed} · rendement 1er passage {fpy}</translation>
    </message>
    <message>
        <source> (from the newest runs only: narrow the dates)</source>
        <translation> (les essais les plus récents seulement : réduisez les dates)</translation>
    </message>
    <message>
        <source> (far outside the plotted range)</source>
        <translation> (loin hors du graphique)</translation>
    </message>
    <message>
        <source>&lt;b&gt;{what}&lt;/b&gt; ({part}) — n = {n}, mean {mean}, σ {stdev}, Cpk &lt;b&gt;{cpk}&lt;/b&gt;, limits {limits}{far}, failed {failed}</source>
        <translation>&lt;b&gt;{what}&lt;/b&gt; ({part}) — n = {n}, moyenne {mean}, σ {stdev}, Cpk &lt;b&gt;{cpk}&lt;/b&gt;, limites {limits}{far}, mauvais {failed}</translation>
    </message>
    <message>
        <source>Save the birth certificate</source>
        <translation>Enregistrer le certificat de naissance</translation>
    </message>
    <message>
        <source>Certificate</source>
        <translation>Certificat</translation>
    </message>
</context>
<context>
    <name>Role</name>
    <message>
        <source>operator</source>
        <translation>opérateur</translation>
    </message>
    <message>
        <source>engineer</source>
        <translation>ingénieur</translation>
    </message>
    <message>
        <source>admin</source>
        <translation>administrateur</translation>
    </message>
</context>
<context>
    <name>RunView</name>
    <message>
        <source>{word} (attempt {n})</source>
        <translation>{word} (essai {n})</translation>
    </message>
    <message>
        <source>Scan the next pack</source>
        <translation>Scannez le pack suivant</translation>
    </message>
    <message>
        <source>Last test ({serial}) ABORTED by the operator — sources off and verified safe. Scan the next pack.</source>
        <translation>Dernier test ({serial}) ARRÊTÉ par l&apos;opérateur — sources coupées et vérifiées sûres. Scannez le pack suivant.</translation>
    </message>
    <message>
        <source>a step failed</source>
        <translation>une étape a échoué</translation>
    </message>
    <message>
        <source>   (+{n} more, listed below)</source>
        <translation>   (+{n} autres, listés dessous)</translation>
    </message>
    <message>
        <source>SAFE STATE NOT CONFIRMED</source>
        <translation>SÉCURITÉ NON CONFIRMÉE</translation>
    </message>
    <message>
        <source>Do not touch the pack. {detail}. Call an engineer.</source>
        <translation>Ne touchez pas le pack. {detail}. Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>Do not touch the pack: cleanup did not finish ({problem}). Call an engineer.</source>
        <translation>Ne touchez pas le pack : la mise en sécurité n&apos;a pas abouti ({problem}). Appelez un ingénieur.</translation>
    </message>
    <message>
        <source>{pack} · every measurement within limits</source>
        <translation>{pack} · toutes les mesures dans les limites</translation>
    </message>
    <message>
        <source>see the log</source>
        <translation>voir le journal</translation>
    </message>
    <message>
        <source>{where} — a station problem, not the pack; call an engineer</source>
        <translation>{where} — problème du poste, pas du pack ; appelez un ingénieur</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>stoppé</translation>
    </message>
    <message>
        <source>{pack} · {reason} · sources off and verified safe</source>
        <translation>{pack} · {reason} · sources coupées et vérifiées sûres</translation>
    </message>
    <message>
        <source> and {n} more</source>
        <translation> et {n} autres</translation>
    </message>
    <message>
        <source>cells {numbers}</source>
        <translation>cellules {numbers}</translation>
    </message>
    <message>
        <source>elements {numbers}</source>
        <translation>éléments {numbers}</translation>
    </message>
    <message>
        <source>cell {numbers}</source>
        <translation>cellule {numbers}</translation>
    </message>
    <message>
        <source>element {numbers}</source>
        <translation>élément {numbers}</translation>
    </message>
    <message>
        <source>limits {limits}</source>
        <translation>limites {limits}</translation>
    </message>
</context>
<context>
    <name>ShiftPanel</name>
    <message>
        <source>Tested</source>
        <translation>Testés</translation>
    </message>
    <message>
        <source>Passed</source>
        <translation>Bons</translation>
    </message>
    <message>
        <source>First-pass yield</source>
        <translation>Rendement 1er passage</translation>
    </message>
    <message>
        <source>This shift</source>
        <translation>Cette équipe</translation>
    </message>
    <message>
        <source>Last packs</source>
        <translation>Derniers packs</translation>
    </message>
</context>
<context>
    <name>State</name>
    <message>
        <source>READY</source>
        <translation>PRÊT</translation>
    </message>
    <message>
        <source>RUNNING</source>
        <translation>EN COURS</translation>
    </message>
    <message>
        <source>ABORTING</source>
        <translation>ARRÊT EN COURS</translation>
    </message>
    <message>
        <source>PASS</source>
        <translation>BON</translation>
    </message>
    <message>
        <source>FAIL</source>
        <translation>MAUVAIS</translation>
    </message>
    <message>
        <source>ERROR</source>
        <translation>ERREUR</translation>
    </message>
    <message>
        <source>ABORTED</source>
        <translation>ARRÊTÉ</translation>
    </message>
    <message>
        <source>STOPPED</source>
        <translation>STOPPÉ</translation>
    </message>
    <message>
        <source>CANNOT START</source>
        <translation>DÉMARRAGE IMPOSSIBLE</translation>
    </message>
</context>
<context>
    <name>TimeSeriesPlot</name>
    <message>
        <source>No time series yet: V, I and T appear here during long steps.</source>
        <translation>Pas encore de courbes : U, I et T s&apos;affichent ici pendant les étapes longues.</translation>
    </message>
    <message>
        <source>time (s)</source>
        <translation>temps (s)</translation>
    </message>
</context>
</TS>
